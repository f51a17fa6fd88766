import { Agent as HttpAgent, type IncomingMessage, request as httpRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Readable } from 'node:stream';
import { EgressRefused, type EgressPolicy, type EgressTarget } from './egress-policy.js';

export interface EgressRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly signal?: AbortSignal;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Statuses whose answer has no body: a web Response refuses one. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * The only way out to a department or a webhook: every call checks its endpoint against the
 * policy (an endpoint stored before the allowlist, or under a wider one, is refused now), and every
 * new connection checks the addresses DNS answered, in the socket's own lookup, so what is checked
 * is what is connected to (no second resolution for a rebinding name to change). Redirects are
 * never followed (node:http does not), and the answer comes back as a web `Response`.
 */
export class EgressClient {
  // Keep-alive: a lookup reuses its connection to the department; a reused socket was checked when it connected.
  private readonly agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

  constructor(readonly policy: EgressPolicy) {}

  /** `{endpoint}{path}`; throws the policy's 400 ENDPOINT_NOT_ALLOWED, or EgressRefused when DNS leads elsewhere. */
  fetch(endpoint: string, path: string, init: EgressRequest = {}): Promise<Response> {
    const target = this.policy.check(endpoint);
    const url = new URL(`${target.base}${path}`);
    const options: RequestOptions = {
      method: init.method ?? 'GET',
      headers: init.headers,
      signal: init.signal,
      agent: this.agents[target.protocol],
      lookup: this.lookupFor(target) as RequestOptions['lookup'],
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const req = send(url, options, (res: IncomingMessage) => {
        try {
          resolve(toResponse(res));
        } catch (error) {
          // A status a web Response cannot hold (1xx): nothing a department or a webhook should answer.
          res.destroy();
          reject(error as Error);
        }
      });
      req.on('error', reject);
      req.end(init.body);
    });
  }

  /** Ends the kept-alive connections (an app closing). */
  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  /** The socket's DNS lookup: only the addresses the policy permits, else EgressRefused and no connection. */
  private lookupFor(target: EgressTarget) {
    return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
      this.policy
        .resolve(hostname)
        .then((answers) => {
          const permitted = answers.filter((a) => (!options.family || a.family === options.family) && this.policy.permits(target, a.address));
          if (permitted.length === 0) return callback(new EgressRefused(target.hostname, target.port), []);
          if (options.all)
            return callback(
              null,
              permitted.map((a) => ({ address: a.address, family: a.family })),
            );
          callback(null, permitted[0].address, permitted[0].family);
        })
        .catch((error: NodeJS.ErrnoException) => callback(error, []));
    };
  }
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) headers.append(name, v);
  }
  const status = res.statusCode ?? 502;
  if (NULL_BODY.has(status)) {
    res.resume();
    return new Response(null, { status, headers });
  }
  return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers });
}
