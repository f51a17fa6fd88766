import { propagationHeaders, RequestContext } from '@datarun/request-context';
import type { RecipientRequest } from '@datarun/transfers';

/** The recipient said no for a business reason (closed account, not eligible…): the request is `rejected` with it. */
export class RecipientRefusal extends Error {
  override name = 'RecipientRefusal';
}

/** Worth trying again later (the system is down, a timeout): never dead-lettered for this. */
export class TransientFailure extends Error {
  override name = 'TransientFailure';
}

/**
 * A material as the connector hands it to the recipient's system: the bytes it fetched through the
 * request's signed link, already checked against the request's SHA-256, with the media type the
 * gateway served them in.
 */
export interface ReceivedMaterial {
  readonly type: string;
  readonly sha256: string;
  readonly contentType: string;
  readonly bytes: Buffer;
}

/**
 * The adapter a recipient writes for its own system (a utility's customer system, a bureau's
 * benefit system). `apply` must be idempotent by `request.requestId` (an idempotency key): the
 * connector's inbox stops redeliveries it has recorded, but a crash between applying and
 * recording can only be closed by the system itself.
 */
export interface RecipientSystem {
  apply(request: RecipientRequest, materials: readonly ReceivedMaterial[]): Promise<{ reference: string }>;
  /** Answers when the system is reachable: the connector's readiness check (the platform's DependencyProbe). */
  probe(): Promise<unknown>;
}

export const RECIPIENT_SYSTEM = Symbol('RECIPIENT_SYSTEM');

/** The body the reference adapter posts to `<system>/requests`: the request's own fields, and the checked documents. */
export function applicationOf(r: RecipientRequest, materials: readonly ReceivedMaterial[]): Record<string, unknown> {
  const documents = materials.map((m) => ({
    type: m.type,
    sha256: m.sha256,
    contentType: m.contentType,
    size: m.bytes.length,
    content: m.bytes.toString('base64'),
  }));
  if (r.request === 'benefit') {
    return {
      requestId: r.requestId,
      request: r.request,
      benefit: r.benefit,
      ...(r.accountNumber === undefined ? {} : { accountNumber: r.accountNumber }),
      beneficiary: r.beneficiary,
      decision: r.decision,
      materials: documents,
    };
  }
  return {
    requestId: r.requestId,
    request: r.request,
    accountNumber: r.accountNumber,
    holder: r.request === 'transfer' ? r.newHolder : r.holder,
    ...(r.request === 'transfer' ? { property: r.property } : { matter: r.matter }),
    effectiveDate: r.effectiveDate,
    materials: documents,
  };
}

/**
 * The reference adapter: JSON over HTTP, as the sandbox's simulated systems speak it. Each
 * material goes in the application with its bytes in base64, so the document itself reaches the
 * recipient's system, not only its hash.
 */
export class HttpRecipientSystem implements RecipientSystem {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  async apply(r: RecipientRequest, materials: readonly ReceivedMaterial[]): Promise<{ reference: string }> {
    const res = await this.call(`${this.baseUrl}/requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(applicationOf(r, materials)),
    });
    const answer = (await res.json().catch(() => ({}))) as { reference?: string; detail?: string; code?: string };
    if (res.ok && typeof answer.reference === 'string') return { reference: answer.reference };
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      throw new RecipientRefusal(`${answer.code ?? res.status}: ${answer.detail ?? res.statusText}`);
    }
    throw new TransientFailure(`the recipient's system answered ${res.status} ${answer.detail ?? res.statusText}`);
  }

  async probe(): Promise<unknown> {
    const res = await this.call(this.baseUrl, { method: 'GET' });
    if (!res.ok) throw new Error(`${this.baseUrl} answered ${res.status}`);
    return res.json();
  }

  /** Every call under the request's correlation id, so the recipient's logs name the same request. */
  private async call(url: string, init: RequestInit): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string> | undefined), ...propagationHeaders(RequestContext.correlationId()) };
    try {
      return await fetch(url, { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new TransientFailure(`cannot reach the recipient's system at ${url}: ${(error as Error).message}`);
    }
  }
}
