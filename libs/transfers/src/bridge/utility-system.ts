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
 * The adapter a utility writes for its own customer system. `apply` must be idempotent by
 * `request.requestId` (an idempotency key): the bridge's inbox stops redeliveries it has recorded,
 * but a crash between applying and recording can only be closed by the system itself.
 */
export interface UtilitySystem {
  apply(request: UtilityRequest): Promise<{ reference: string }>;
  /** Answers when the system is reachable: the bridge's readiness check (the platform's DependencyProbe). */
  probe(): Promise<unknown>;
}

export const UTILITY_SYSTEM = Symbol('UTILITY_SYSTEM');

/** The reference adapter: JSON over HTTP, as the sandbox's simulated utilities speak it. */
export class HttpUtilitySystem implements UtilitySystem {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  async apply(r: UtilityRequest): Promise<{ reference: string }> {
    const body = {
      requestId: r.requestId,
      request: r.request,
      accountNumber: r.accountNumber,
      holder: r.request === 'transfer' ? r.newHolder : r.holder,
      ...(r.request === 'transfer' ? { property: r.property } : { matter: r.matter }),
      effectiveDate: r.effectiveDate,
      materials: r.materials.map((m) => ({ type: m.type, sha256: m.sha256 })),
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
