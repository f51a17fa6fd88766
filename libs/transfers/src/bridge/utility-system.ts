import { propagationHeaders, RequestContext } from '@datarun/request-context';
import type { UtilityRequest } from '../events.js';

/** The utility said no for a business reason (closed account…): the request is `rejected` with it. */
export class UtilityRefusal extends Error {
  override name = 'UtilityRefusal';
}

/** Worth trying again later (the system is down, a timeout): never dead-lettered for this. */
export class TransientFailure extends Error {
  override name = 'TransientFailure';
}

/**
 * A material as the bridge hands it to the utility's system: the bytes it fetched through the
 * request's signed link, already checked against the request's SHA-256, with the media type the
 * gateway served them in.
 */
export interface ReceivedMaterial {
  readonly type: string;
  readonly sha256: string;
  readonly contentType: string;
  readonly bytes: Buffer;
}

/** A material's bytes are at most this many: the bridge's bound, and the gateway's upload limit (MAX_MATERIAL_BYTES of @datarun/cases is this value). */
export const APPLIED_MATERIAL_MAX_BYTES = 10 * 1024 * 1024;
/**
 * The materials one application carries at most, bytes included: what bounds its body (see
 * APPLICATION_BODY_LIMIT). A request routing more is refused by the bridge before anything is
 * fetched; no matter sends a utility that many documents.
 */
export const APPLIED_MATERIALS_MAX = 10;
/**
 * The largest application body the reference adapter sends: every material at its largest, in
 * base64 (4 characters per 3 bytes), plus room for the rest of the JSON.
 */
export const APPLICATION_BODY_LIMIT = APPLIED_MATERIALS_MAX * 4 * Math.ceil(APPLIED_MATERIAL_MAX_BYTES / 3) + 256 * 1024;

/**
 * The adapter a utility writes for its own customer system. `apply` must be idempotent by
 * `request.requestId` (an idempotency key): the bridge's inbox stops redeliveries it has recorded,
 * but a crash between applying and recording can only be closed by the system itself.
 */
export interface UtilitySystem {
  apply(request: UtilityRequest, materials: readonly ReceivedMaterial[]): Promise<{ reference: string }>;
  /** Answers when the system is reachable: the bridge's readiness check (the platform's DependencyProbe). */
  probe(): Promise<unknown>;
}

export const UTILITY_SYSTEM = Symbol('UTILITY_SYSTEM');

/**
 * The reference adapter: JSON over HTTP, as the sandbox's simulated utilities speak it. Each
 * material goes in the application with its bytes in base64, so the document itself reaches the
 * utility's system, not only its hash.
 */
export class HttpUtilitySystem implements UtilitySystem {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  async apply(r: UtilityRequest, materials: readonly ReceivedMaterial[]): Promise<{ reference: string }> {
    const body = {
      requestId: r.requestId,
      request: r.request,
      accountNumber: r.accountNumber,
      holder: r.request === 'transfer' ? r.newHolder : r.holder,
      ...(r.request === 'transfer' ? { property: r.property } : { matter: r.matter }),
      effectiveDate: r.effectiveDate,
      materials: materials.map((m) => ({
        type: m.type,
        sha256: m.sha256,
        contentType: m.contentType,
        size: m.bytes.length,
        content: m.bytes.toString('base64'),
      })),
    };
    const res = await this.call(`${this.baseUrl}/requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await res.json().catch(() => ({}))) as { reference?: string; detail?: string; code?: string };
    if (res.ok && typeof answer.reference === 'string') return { reference: answer.reference };
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw new UtilityRefusal(`${answer.code ?? res.status}: ${answer.detail ?? res.statusText}`);
    }
    throw new TransientFailure(`the utility system answered ${res.status} ${answer.detail ?? res.statusText}`);
  }

  async probe(): Promise<unknown> {
    const res = await this.call(this.baseUrl, { method: 'GET' });
    if (!res.ok) throw new Error(`${this.baseUrl} answered ${res.status}`);
    return res.json();
  }

  /** Every call under the request's correlation id, so the utility's logs name the same request. */
  private async call(url: string, init: RequestInit): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string> | undefined), ...propagationHeaders(RequestContext.correlationId()) };
    try {
      return await fetch(url, { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new TransientFailure(`cannot reach the utility system at ${url}: ${(error as Error).message}`);
    }
  }
}
