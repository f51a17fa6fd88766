import { acceptedCorrelationId, correlationIdOf, mintCorrelationId, propagationHeaders, traceIdOf } from './correlation-id.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACE_ID = /^[0-9a-f]{32}$/;

describe('correlation ids', () => {
  it('takes the trace id of a valid traceparent, and refuses the invalid ones W3C names', () => {
    expect(traceIdOf(TRACEPARENT)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(traceIdOf(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(traceIdOf(`00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOf('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01')).toBeUndefined();
    expect(traceIdOf(undefined)).toBeUndefined();
  });

  it('prefers the traceparent to an x-request-id (DECISIONS: the trace id is the correlation id)', () => {
    expect(correlationIdOf({ traceparent: TRACEPARENT, 'x-request-id': 'hall-4711' })).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(correlationIdOf({ 'x-request-id': 'hall-4711' })).toBe('hall-4711');
    expect(correlationIdOf({ traceparent: 'garbage', 'x-request-id': 'hall-4711' })).toBe('hall-4711');
  });

  it('mints a trace-id-shaped id when the caller sent none or an unsafe one (log injection)', () => {
    expect(correlationIdOf({})).toMatch(TRACE_ID);
    expect(correlationIdOf({ 'x-request-id': 'a\nfake log line' })).toMatch(TRACE_ID);
    expect(acceptedCorrelationId('x'.repeat(129))).toBeUndefined();
    expect(mintCorrelationId()).not.toBe(mintCorrelationId());
  });

  it('mints distinct ids across refills of its random pool (256 ids each)', () => {
    const ids = Array.from({ length: 1000 }, () => mintCorrelationId());
    expect(ids.every((id) => TRACE_ID.test(id) && !/^0{32}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(1000);
  });

  it('carries a trace id on as a traceparent with a new span, any other id as x-request-id only', () => {
    const id = mintCorrelationId();
    const headers = propagationHeaders(id);
    expect(headers['x-request-id']).toBe(id);
    expect(traceIdOf(headers.traceparent)).toBe(id);
    expect(propagationHeaders(id).traceparent).not.toBe(headers.traceparent);
    expect(propagationHeaders('hall-4711')).toEqual({ 'x-request-id': 'hall-4711' });
    expect(propagationHeaders(undefined)).toEqual({});
  });
});
