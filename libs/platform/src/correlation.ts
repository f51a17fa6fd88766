import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/**
 * The correlation id of a request: the caller's `x-request-id` when it is safe to echo, else the
 * trace id of a W3C `traceparent`, else a new UUID. It goes into every log line, problem body,
 * audit record and Kafka header of the request.
 */
export function correlationIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && SAFE_ID.test(given)) return given;
  const traceparent = req.headers.traceparent;
  const match = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null;
  return match ? match[1] : randomUUID();
}
