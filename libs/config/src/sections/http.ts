import { z } from 'zod';
import { defineSection } from '../section.js';

/** What every HTTP process accepts from a connection before anyone is trusted. */
export interface HttpConfig {
  /** Largest request body of a route that declares no limit of its own, in bytes. */
  readonly bodyLimit: number;
  /** An idle socket is closed after this many milliseconds. */
  readonly connectionTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this many milliseconds. */
  readonly requestTimeoutMs: number;
  /** The headers must arrive within this many milliseconds. */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this many milliseconds. */
  readonly keepAliveTimeoutMs: number;
}

const milliseconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// Real limits in every environment: none of them slows the benchmark, and a development machine
// meets the same slow or oversized client as production does.
const variables = z.object({
  HTTP_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(8 * 1024 * 1024)
    .default(256 * 1024)
    .describe(
      'Largest request body in bytes, for every route that declares no limit of its own; larger is `413 PAYLOAD_TOO_LARGE`, refused before the body is read when `Content-Length` says so. Routes with their own limit: material upload (10 MiB), record push (8 MiB).',
    ),
  HTTP_CONNECTION_TIMEOUT_MS: milliseconds(1000, 3_600_000)
    .default(60_000)
    .describe('A socket that sends or receives nothing for this many milliseconds is closed (Fastify `connectionTimeout`).'),
  HTTP_REQUEST_TIMEOUT_MS: milliseconds(1000, 3_600_000)
    .default(60_000)
    .describe(
      'A request whose headers and body have not all arrived after this many milliseconds is answered 408 and its connection closed (Node `requestTimeout`): a client trickling a body cannot hold a connection. Leave room for a 10 MiB material on the slowest service-hall link.',
    ),
  HTTP_HEADERS_TIMEOUT_MS: milliseconds(1000, 3_600_000)
    .default(10_000)
    .describe('The request line and headers must arrive within this many milliseconds (Node `headersTimeout`, slowloris); at most `HTTP_REQUEST_TIMEOUT_MS`.'),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: milliseconds(1000, 600_000)
    .default(72_000)
    .describe(
      'An idle keep-alive connection is closed after this many milliseconds (Fastify `keepAliveTimeout`). Behind a load balancer, longer than its idle timeout, so that it never reuses a connection the app is closing.',
    ),
});

export const HTTP_SECTION = defineSection({
  name: 'http',
  owner: '@datarun/platform (every HTTP app)',
  variables,
  read: (v): { readonly http: HttpConfig } => ({
    http: {
      bodyLimit: v.HTTP_BODY_LIMIT,
      connectionTimeoutMs: v.HTTP_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: v.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: Math.min(v.HTTP_HEADERS_TIMEOUT_MS, v.HTTP_REQUEST_TIMEOUT_MS),
      keepAliveTimeoutMs: v.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    },
  }),
});
