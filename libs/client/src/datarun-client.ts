import { randomUUID, type KeyObject } from 'node:crypto';
import { mintToken } from '@datarun/auth';
import createClient, { type Client, type ClientPathsWithMethod, defaultBodySerializer, type MaybeOptionalInit, type MethodResponse } from 'openapi-fetch';
import type { paths as AuditPaths } from './generated/audit.js';
import type { paths as GatewayPaths } from './generated/gateway.js';
import type { paths as RegistryPaths } from './generated/registry.js';
import type { paths as RelayPaths } from './generated/relay.js';
import { DatarunProblem } from './problem.js';

/** Base URLs of the apps to call, e.g. `{ gateway: 'http://127.0.0.1:3000' }`. */
export type DatarunEndpoints = Partial<Record<DatarunAppName, string>>;
export type DatarunAppName = keyof DatarunApis;

/** Who calls: a registered member, one of its keys, and the person acting. */
export interface MemberCredentials {
  /** `iss`: the member id, e.g. `zj.demo.service-hall`. */
  readonly member: string;
  /** The key id the member registered for this key. */
  readonly kid: string;
  /** The member's private key (PEM text or a KeyObject); it never leaves this process. */
  readonly privateKey: KeyObject | string;
  /** `sub`: the clerk's staff number, or `system` (the default). */
  readonly actor?: string;
  /** Token lifetime in seconds; default 300 (datarun accepts at most 600). */
  readonly lifetimeSec?: number;
}

export interface DatarunClientOptions {
  /** Replaces global fetch (tests, proxies). */
  readonly fetch?: (request: Request) => Promise<Response>;
  /** The clock, in milliseconds (like Date.now); tokens are minted and renewed by it. */
  readonly now?: () => number;
}

type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
/** What a generated `paths` interface is: path items keyed by method (plus their `parameters`). */
type PathMap<Paths> = { [Path in keyof Paths]: Partial<Record<HttpMethod, unknown>> };
// openapi-fetch's own rule for when the second argument (params, body) may be left out; it does
// not export it, so it is restated here for the wrapper's signature.
type RequiredKeysOf<T> = { [K in keyof T]: {} extends Pick<T, K> ? never : K }[keyof T];
type InitParam<Init> = [RequiredKeysOf<Init>] extends [never] ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];
/** A route without a documented answer body answers `unknown`, not `never`. */
type Answer<T> = [T] extends [never] ? unknown : T;

/** A typed call: resolves with the parsed answer of a 2xx, rejects with a DatarunProblem otherwise. */
export type DatarunCall<Paths extends PathMap<Paths>, M extends HttpMethod> = <
  Path extends ClientPathsWithMethod<Client<Paths>, M>,
  Init extends MaybeOptionalInit<Paths[Path], M>,
>(
  path: Path,
  ...init: InitParam<Init>
) => Promise<Answer<MethodResponse<Client<Paths>, M, Path, Init>>>;

/** One app's API: `client.gateway.POST('/v1/cases', { body })`, with paths, params and bodies checked against its OpenAPI document. */
export interface DatarunApi<Paths extends PathMap<Paths>> {
  GET: DatarunCall<Paths, 'get'>;
  POST: DatarunCall<Paths, 'post'>;
  PUT: DatarunCall<Paths, 'put'>;
  PATCH: DatarunCall<Paths, 'patch'>;
  DELETE: DatarunCall<Paths, 'delete'>;
}

/** The apps a member calls, each with the paths its OpenAPI document describes. */
export interface DatarunApis {
  gateway: DatarunApi<GatewayPaths>;
  registry: DatarunApi<RegistryPaths>;
  audit: DatarunApi<AuditPaths>;
  relay: DatarunApi<RelayPaths>;
}

/** A client of the apps named in its endpoints: `createDatarunClient({ gateway: url }, …).gateway`, and no other. */
export type DatarunClient<E extends DatarunEndpoints> = Readonly<Pick<DatarunApis, keyof E & DatarunAppName>> & {
  /** The bearer token the next call will carry (minted, or the cached one while it is fresh). */
  token(): Promise<string>;
};

/** A token is renewed this long before it expires: a call in flight and clock skew must not meet an expired one. */
const RENEW_BEFORE_EXPIRY_SEC = 60;

/**
 * A client of the datarun apps named in `endpoints`, calling as `credentials`: every request carries
 * a bearer token minted from the member's key (cached until shortly before it expires) and an
 * `x-request-id` (a fresh UUID unless the call sets one), and every answer that is not 2xx
 * rejects with a `DatarunProblem`.
 */
export function createDatarunClient<const E extends DatarunEndpoints>(
  endpoints: E,
  credentials: MemberCredentials,
  options: DatarunClientOptions = {},
): DatarunClient<E> {
  const now = options.now ?? Date.now;
  const lifetimeSec = credentials.lifetimeSec ?? 300;
  let cached: { token: Promise<string>; renewAt: number } | undefined;
  const token = (): Promise<string> => {
    if (cached === undefined || now() >= cached.renewAt) {
      // mintToken may sign synchronously or return a promise: either way this is a promise.
      const minted = (async () =>
        mintToken({
          issuer: credentials.member,
          kid: credentials.kid,
          privateKey: credentials.privateKey,
          subject: credentials.actor ?? 'system',
          lifetimeSec,
          now,
        }))();
      const entry = { token: minted, renewAt: now() + Math.max(lifetimeSec - RENEW_BEFORE_EXPIRY_SEC, lifetimeSec / 2) * 1000 };
      cached = entry;
      // A key that cannot sign fails this call; the next call tries again rather than repeat the failure.
      minted.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.token;
  };

  const apis: Record<string, unknown> = {};
  for (const [app, baseUrl] of Object.entries(endpoints)) {
    if (baseUrl === undefined) continue;
    const client = createClient<Untyped>({ baseUrl, fetch: options.fetch, bodySerializer: serializeBody });
    client.use({
      async onRequest({ request }) {
        if (!request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${await token()}`);
        if (!request.headers.has('x-request-id')) request.headers.set('x-request-id', randomUUID());
        return request;
      },
    });
    apis[app] = throwingApi(client);
  }
  return { ...apis, token } as unknown as DatarunClient<E>;
}

type Untyped = Record<string, Record<HttpMethod, {}>>;

/** Bytes (a material upload) go as they are, with the content type the call sets; anything else as JSON. */
function serializeBody(body: unknown): unknown {
  if (body instanceof Blob || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body;
  return defaultBodySerializer(body);
}

function throwingApi(client: Client<Untyped>): unknown {
  // The typed surface is DatarunCall; underneath, one untyped call per method.
  const call =
    (method: HttpMethod) =>
    async (path: string, init?: Record<string, unknown>): Promise<unknown> => {
      const { data, error, response } = await client.request(method as never, path as never, init as never);
      if (!response.ok) throw DatarunProblem.of(response, error);
      return data;
    };
  return { GET: call('get'), POST: call('post'), PUT: call('put'), PATCH: call('patch'), DELETE: call('delete') };
}
