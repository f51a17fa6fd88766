import type { IncomingMessage } from 'node:http';
import { correlationIdOf } from './correlation.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('correlationIdOf', () => {
  it('echoes a safe x-request-id', () => expect(correlationIdOf(req({ 'x-request-id': 'abc-123' }))).toBe('abc-123'));
  it('takes the trace id of a traceparent, even beside an x-request-id', () =>
    expect(correlationIdOf(req({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'x-request-id': 'abc-123' }))).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    ));
  it('replaces an unsafe id (log injection) with a new trace-id-shaped one', () => {
    const id = correlationIdOf(req({ 'x-request-id': 'a\nfake log line' }));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});
