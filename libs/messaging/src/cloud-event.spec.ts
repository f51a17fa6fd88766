import { RequestContext } from '@datarun/request-context';
import { cloudEvent, correlationIdOfMessage, fromKafkaMessage, MalformedEvent, toKafkaMessage } from './cloud-event.js';

describe('CloudEvents binary mode', () => {
  it('puts attributes in ce_ headers and only the data in the value', () => {
    const event = cloudEvent({ type: 't.v1', source: 's', subject: 'u-1', correlationid: 'c-9', data: { a: 1 } });
    const message = toKafkaMessage(event, 'k');
    expect(message.key).toBe('k');
    expect(JSON.parse(String(message.value))).toEqual({ a: 1 });
    expect(message.headers).toMatchObject({
      ce_id: event.id,
      ce_type: 't.v1',
      ce_source: 's',
      ce_specversion: '1.0',
      ce_subject: 'u-1',
      ce_correlationid: 'c-9',
      'content-type': 'application/json',
    });
    const back = fromKafkaMessage({
      value: Buffer.from(String(message.value)),
      headers: Object.fromEntries(Object.entries(message.headers!).map(([k, v]) => [k, Buffer.from(String(v))])),
    });
    expect(back).toEqual(event);
  });

  it('carries the request context’s correlation id when the event names none (a connector’s statuses, a checkpoint signed on request)', () => {
    expect(cloudEvent({ type: 't.v1', source: 's', data: {} })).not.toHaveProperty('correlationid');
    RequestContext.run('req-7', () => {
      expect(cloudEvent({ type: 't.v1', source: 's', data: {} }).correlationid).toBe('req-7');
      expect(cloudEvent({ type: 't.v1', source: 's', correlationid: 'c-9', data: {} }).correlationid).toBe('c-9');
    });
  });

  it('handles a consumed message under its own safe ce_correlationid, else a new one', () => {
    expect(correlationIdOfMessage({ headers: { ce_correlationid: Buffer.from('c-9') } })).toBe('c-9');
    expect(correlationIdOfMessage({ headers: { ce_correlationid: Buffer.from('c-9\n{"forged":1}') } })).toMatch(/^[0-9a-f]{32}$/);
    expect(correlationIdOfMessage({})).toMatch(/^[0-9a-f]{32}$/);
  });

  it.each([
    [{ value: Buffer.from('{}'), headers: {} }, /CloudEvents/],
    [{ value: Buffer.from('{}'), headers: { ce_id: '1', ce_source: 's', ce_type: 't', ce_specversion: '0.3' } }, /CloudEvents/],
    [{ value: Buffer.from('not json'), headers: { ce_id: '1', ce_source: 's', ce_type: 't', ce_specversion: '1.0' } }, /not JSON/],
    [{ value: null, headers: { ce_id: '1', ce_source: 's', ce_type: 't', ce_specversion: '1.0' } }, /no body/],
  ])('refuses a malformed message %#', (message, reason) => {
    expect(() => fromKafkaMessage(message)).toThrow(MalformedEvent);
    expect(() => fromKafkaMessage(message)).toThrow(reason);
  });
});
