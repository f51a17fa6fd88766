import type { IncomingMessage } from 'node:http';
import { RequestContext } from '@datarun/request-context';
import type { Options } from 'pino-http';

const idOf = (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id;

/** Probes and scrapes come every few seconds; logging them would bury the requests that matter. */
const isProbe = (url: string) => url.startsWith('/health/') || url.startsWith('/metrics');

/**
 * The app's logger (nestjs-pino over pino-http): JSON lines, one per request plus what the code
 * logs. A successful request to one of `auditedRoutes` (`POST /v1/lookups`) is a debug line: the
 * audit log is the record of those, and a line each at thousands a second would cost the hot path
 * a write and a JSON serialisation per request (and `npm start` a relayed line). Refusals (4xx)
 * stay info lines, failures (5xx) error lines. Every line carries the correlation id (and calling member) of the request context it was
 * written in — an HTTP request's, a consumed message's — so one id finds everything (CONVENTIONS
 * §5, §6); lines of background work outside any context (the relay's loop) carry none.
 */
export function requestLogging(app: string, level: string, auditedRoutes: readonly string[] = []): Options<IncomingMessage> {
  const audited = new Set(auditedRoutes);
  return {
    name: app,
    level,
    // Ask the request for its correlation id (set by Fastify's genReqId).
    genReqId: (req: IncomingMessage) => idOf(req) ?? 'unknown',
    mixin: () => RequestContext.logFields(),
    // The request's own line is written once the answer has gone, outside the context: it names its
    // id itself (a value the mixin gives for the same key yields to the line's own).
    customSuccessObject: (req: IncomingMessage, _res: unknown, value: object) => ({ ...value, correlationId: idOf(req) }),
    customErrorObject: (req: IncomingMessage, _res: unknown, _error: unknown, value: object) => ({ ...value, correlationId: idOf(req) }),
    // Never headers (tokens) nor query strings (audit search carries ID numbers) nor bodies.
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    redact: { paths: ['idNumber', '*.idNumber', 'phone', '*.phone', 'record', '*.record', 'records'], censor: '[redacted]' },
    customLogLevel: (req: IncomingMessage, res: { statusCode: number }, error?: Error) => {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode < 400 && audited.has(`${req.method} ${req.url?.split('?')[0]}`)) return 'debug';
      return 'info';
    },
    autoLogging: { ignore: (req: IncomingMessage) => isProbe((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '') },
  };
}
