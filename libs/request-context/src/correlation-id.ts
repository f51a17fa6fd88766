import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * What a caller may send as its own id (`x-request-id`, a CloudEvent's `correlationid`): short and
 * without spaces, quotes or line breaks, because it is echoed in headers and written to every log
 * line (a line break in it would forge a log line).
 */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * W3C Trace Context `traceparent`: version-traceid-parentid-flags. Version ff is invalid, and so are
 * an all-zero trace id or parent id.
 */
const TRACEPARENT = /^(?!ff)[\da-f]{2}-(?!0{32})([\da-f]{32})-(?!0{16})[\da-f]{16}-[\da-f]{2}$/;
const TRACE_ID = /^(?!0{32})[\da-f]{32}$/;

/** The trace id of a valid `traceparent`, else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent === undefined ? undefined : TRACEPARENT.exec(traceparent.trim())?.[1];
}

/** `value` when it is safe to echo and log as a correlation id, else undefined. */
export function acceptedCorrelationId(value: string | undefined): string | undefined {
  return value !== undefined && SAFE_ID.test(value) ? value : undefined;
}

/**
 * A new correlation id in the form of a W3C trace id (32 lower-case hex digits): an OpenTelemetry
 * exporter can later use it as the trace id without renaming anything.
 */
export function mintCorrelationId(): string {
  if (entropyUsed === entropy.length) {
    randomFillSync(entropy);
    entropyUsed = 0;
  }
  entropyUsed += 16;
  return entropy.toString('hex', entropyUsed - 16, entropyUsed);
}

// Every request without an id of its own gets one: a getrandom() call for each cost the gateway
// about 9 µs a lookup (npm run bench -- --profile). One call fills ids for 256 requests, as
// crypto.randomUUID does with its own buffer.
const entropy = Buffer.alloc(16 * 256);
let entropyUsed = entropy.length;

/**
 * The correlation id of an incoming request: the trace id of its `traceparent` (the W3C standard,
 * and what a tracing caller sends), else its own `x-request-id` when safe to echo, else a new one.
 */
export function correlationIdOf(headers: Readonly<Record<string, string | string[] | undefined>>): string {
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  return traceIdOf(first(headers.traceparent)) ?? acceptedCorrelationId(first(headers['x-request-id'])) ?? mintCorrelationId();
}

/**
 * The headers that carry a correlation id to another system (a department, a utility's system,
 * the gateway's material links): `x-request-id` always, and a `traceparent` with a new span id
 * when the id is a trace id, so a system that follows W3C Trace Context continues the same trace.
 */
export function propagationHeaders(correlationId: string | undefined): Record<string, string> {
  if (correlationId === undefined) return {};
  if (!TRACE_ID.test(correlationId)) return { 'x-request-id': correlationId };
  return { 'x-request-id': correlationId, traceparent: `00-${correlationId}-${randomBytes(8).toString('hex')}-00` };
}
