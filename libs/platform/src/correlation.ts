import type { IncomingMessage } from 'node:http';
import { correlationIdOf as fromHeaders } from '@datarun/request-context';

/**
 * The correlation id of a request (Fastify's request id): the trace id of a W3C `traceparent`,
 * else the caller's `x-request-id` when it is safe to echo, else a new id in trace-id form. It goes
 * into the request context, every log line, problem body and audit record of the request, the
 * outbox rows and Kafka headers it causes, and the `x-request-id` of the answer.
 */
export function correlationIdOf(req: IncomingMessage): string {
  return fromHeaders(req.headers);
}
