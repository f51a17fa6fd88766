import type { ProblemCode } from '@datarun/problems';

/** What the client reports when an answer is not 2xx and not problem+json (a proxy's 502 page, say). */
export const UNEXPECTED_RESPONSE = 'UNEXPECTED_RESPONSE';

/**
 * An answer of datarun that is not a success, as the caller sees it: the RFC 9457 problem's stable
 * `code` (docs/api.md), its HTTP `status` and `detail`, and the correlation id that finds the request
 * in datarun's logs and audit records. Every call of the client throws one instead of returning
 * an error value.
 */
export class DatarunProblem extends Error {
  constructor(
    /** A contract code; a newer server may answer codes this client does not know yet. */
    readonly code: ProblemCode | (string & {}),
    readonly status: number,
    readonly detail: string,
    /** The request's correlation id (`x-request-id`), when the server answered one. */
    readonly requestId: string | undefined,
    /** The whole body: problem extensions such as the offending schema `paths`. */
    readonly body: unknown,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'DatarunProblem';
  }

  /** The problem of an answer that is not 2xx; `body` is what openapi-fetch read (JSON when it parsed). */
  static of(response: Response, body: unknown): DatarunProblem {
    const requestId = response.headers.get('x-request-id') ?? undefined;
    if (isProblemBody(body)) return new DatarunProblem(body.code, response.status, body.detail, body.correlationId ?? requestId, body);
    const text = typeof body === 'string' ? body.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
    return new DatarunProblem(UNEXPECTED_RESPONSE, response.status, text || `HTTP ${response.status} ${response.statusText}`.trim(), requestId, body);
  }
}

function isProblemBody(body: unknown): body is { code: string; detail: string; correlationId?: string } {
  if (typeof body !== 'object' || body === null) return false;
  const { code, detail } = body as Record<string, unknown>;
  return typeof code === 'string' && typeof detail === 'string';
}
