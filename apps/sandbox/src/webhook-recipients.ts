import { createHash, type KeyObject } from 'node:crypto';
import { KeyRing, loadMemberSigningKey, type MemberSigningKey, mintToken } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { type CloudEvent, MalformedEvent } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { propagationHeaders, RequestContext } from '@datarun/request-context';
import {
  APPLIED_MATERIAL_MAX_BYTES,
  isMaterialLinkOf,
  type RecipientRequest,
  REQUEST_KINDS,
  requestOf,
  SIGNATURE_HEADER,
  verifyWebhookSignature,
} from '@datarun/transfers';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { SentMaterial } from './simulated-system.js';
import { SimulatedRegisters } from './simulated-registers.js';
import { SimulatedUtilities } from './simulated-utilities.js';

/** What the sandbox did with one request its webhook received: what a demo or a test reads back. */
export interface WebhookReceipt {
  requestId: string;
  request: RecipientRequest['request'];
  receivedAt: string;
  /** Every delivery of this request id, the first included: above 1 means the relay delivered it again. */
  deliveries: number;
  state: 'applying' | 'completed' | 'rejected' | 'failed';
  reference?: string;
  reason?: string;
  /** What the gateway answered the status with (its HTTP status), once answered. */
  statusAnswer?: number;
}

/** Receipts kept per member, the oldest dropped beyond. */
const KEPT_RECEIPTS = 1000;
/** Waits before the attempts after a transient failure (the gateway restarting, a 503). */
const RETRY_MS = [250, 1000, 3000];

/** A failure worth trying again (the gateway unreachable or busy); anything else is final. */
class Transient extends Error {}

/**
 * The webhook recipients the sandbox acts for (SANDBOX_WEBHOOK_MEMBERS: the demo's broadband
 * company and 残联): what a recipient that takes its requests by webhook runs. Each delivery must
 * carry datarun's `datarun-signature` (by the platform delivery key, kid `delivery`, for this
 * endpoint and this event id), else 401 and nothing is done; a signed one is answered 202 at once
 * and applied in the background: each material fetched through its link under the member's own token and checked
 * against its SHA-256, the request applied to the member's simulated system (a utility kind's
 * transfer or discount to that SimulatedUtility, a benefit to the member's register), and the
 * outcome answered to the gateway (`POST /v1/requests/{id}/status`, completed with the system's
 * reference, or rejected with why) under the member's token. A request delivered again after it
 * was applied is not applied twice: its status is answered again.
 */
@Injectable()
export class WebhookRecipients implements BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookRecipients');
  private readonly members: ReadonlyMap<string, DatarunConfig['sandbox']['webhookMembers'][number]>;
  private readonly signingKeys = new Map<string, MemberSigningKey>();
  private readonly platformKeys: ReadonlyMap<string, KeyObject>;
  private readonly receipts = new Map<string, Map<string, WebhookReceipt>>();
  private readonly working = new Set<Promise<void>>();

  constructor(
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    keys: KeyRing,
    private readonly utilities: SimulatedUtilities,
    private readonly registers: SimulatedRegisters,
  ) {
    this.members = new Map(config.sandbox.webhookMembers.map((m) => [m.id, m]));
    // Deliveries are signed with the platform delivery key (kid `delivery`), never the federated-call key.
    this.platformKeys = keys.require('deliveryPublicKey');
  }

  /**
   * One delivery to `member`'s webhook at `endpoint` (the URL it was posted to): checked, then
   * applied in the background. Throws NOT_FOUND for a member the sandbox does not act for,
   * TOKEN_MISSING/TOKEN_INVALID (401) for a missing or bad signature, VALIDATION_FAILED for a
   * signed body that is no request, SERVICE_UNAVAILABLE when the member's key is missing.
   */
  async receive(member: string, endpoint: string, body: Buffer, signature: string | undefined): Promise<{ requestId: string }> {
    if (!this.members.has(member)) throw new Problem('NOT_FOUND', `the sandbox serves no webhook of ${member} (SANDBOX_WEBHOOK_MEMBERS)`);
    if (signature === undefined || signature === '')
      throw new Problem('TOKEN_MISSING', `no ${SIGNATURE_HEADER} header: only datarun's signed deliveries are taken`);
    let event: CloudEvent;
    try {
      event = structuredEventOf(body);
    } catch {
      // Unsigned-looking junk is refused the same way as a bad signature: nothing about it is trusted.
      throw new Problem('TOKEN_INVALID', `${SIGNATURE_HEADER} does not verify: the body is not a CloudEvent`);
    }
    const check = await verifyWebhookSignature(body, signature, { endpoint, eventId: event.id }, this.platformKeys);
    if (!check.ok) throw new Problem('TOKEN_INVALID', `${SIGNATURE_HEADER} does not verify: ${check.reason}`);
    let request: RecipientRequest;
    try {
      request = requestOf(event, REQUEST_KINDS);
    } catch (error) {
      if (error instanceof MalformedEvent) throw new Problem('VALIDATION_FAILED', error.message);
      throw error;
    }
    if (request.recipient !== undefined && request.recipient !== member) {
      throw new Problem('VALIDATION_FAILED', `request ${request.requestId} is for ${request.recipient}, not ${member}`);
    }
    const key = this.signingKeyOf(member);
    const receipt = this.receiptOf(member, request);
    const work = RequestContext.run(event.correlationid ?? RequestContext.correlationId() ?? request.requestId, () =>
      this.apply(member, key, request, receipt),
    );
    this.working.add(work);
    void work.finally(() => this.working.delete(work));
    return { requestId: request.requestId };
  }

  /** What the member's webhook received and did, most recent last. */
  received(member: string): WebhookReceipt[] {
    if (!this.members.has(member)) throw new Problem('NOT_FOUND', `the sandbox serves no webhook of ${member} (SANDBOX_WEBHOOK_MEMBERS)`);
    return [...(this.receipts.get(member)?.values() ?? [])];
  }

  /** Lets background work finish before the app closes (and the tests' servers with it). */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.working]);
  }

  private signingKeyOf(member: string): MemberSigningKey {
    let key = this.signingKeys.get(member);
    if (!key) {
      const m = this.members.get(member)!;
      key = loadMemberSigningKey(this.config, { member, kid: m.keyId, file: m.privateKey, variable: 'SANDBOX_WEBHOOK_MEMBERS' });
      if (!key) throw new Problem('SERVICE_UNAVAILABLE', `the sandbox holds no key of ${member} (${m.privateKey}; npm run dev-keys makes it)`);
      this.signingKeys.set(member, key);
    }
    return key;
  }

  private receiptOf(member: string, request: RecipientRequest): WebhookReceipt {
    let receipts = this.receipts.get(member);
    if (!receipts) this.receipts.set(member, (receipts = new Map()));
    const seen = receipts.get(request.requestId);
    if (seen) {
      seen.deliveries += 1;
      return seen;
    }
    const receipt: WebhookReceipt = {
      requestId: request.requestId,
      request: request.request,
      receivedAt: new Date().toISOString(),
      deliveries: 1,
      state: 'applying',
    };
    receipts.set(request.requestId, receipt);
    for (const oldest of receipts.keys()) {
      if (receipts.size <= KEPT_RECEIPTS) break;
      receipts.delete(oldest);
    }
    return receipt;
  }

  private async apply(member: string, key: MemberSigningKey, request: RecipientRequest, receipt: WebhookReceipt): Promise<void> {
    const token = await mintToken({ issuer: member, kid: key.kid, privateKey: key.privateKey, subject: 'system', lifetimeSec: 300 });
    let status: { state: 'completed'; reference: string } | { state: 'rejected'; reason: string };
    try {
      const applied = this.systemOf(member, request).referenceOf(request.requestId);
      const reference = applied ?? (await this.applyOnce(request, await this.fetchMaterials(request, token)));
      status = { state: 'completed', reference };
    } catch (error) {
      if (!(error instanceof Problem) || error.code === 'SERVICE_UNAVAILABLE') {
        receipt.state = 'failed';
        receipt.reason = (error as Error).message;
        this.logger.warn({ member, requestId: request.requestId }, `cannot apply request ${request.requestId} for ${member}: ${receipt.reason}`);
        return;
      }
      status = { state: 'rejected', reason: `${error.code}: ${error.detail}`.slice(0, 500) };
    }
    Object.assign(receipt, status);
    try {
      receipt.statusAnswer = await this.retrying(() => this.answer(request.requestId, status, token));
    } catch (error) {
      receipt.reason = `status not answered: ${(error as Error).message}`;
      this.logger.warn({ member, requestId: request.requestId }, `cannot answer the status of ${request.requestId} for ${member}: ${receipt.reason}`);
    }
  }

  private systemOf(member: string, request: RecipientRequest) {
    return request.request === 'benefit' ? this.registers.of(member) : this.utilities.of(request.utility);
  }

  private applyOnce(request: RecipientRequest, materials: SentMaterial[]): Promise<string> {
    const applied =
      request.request === 'benefit'
        ? this.registers.of(request.recipient).apply({
            requestId: request.requestId,
            request: 'benefit',
            benefit: request.benefit,
            ...(request.accountNumber === undefined ? {} : { accountNumber: request.accountNumber }),
            beneficiary: request.beneficiary,
            decision: request.decision,
            materials,
          })
        : this.utilities.of(request.utility).apply({
            requestId: request.requestId,
            request: request.request,
            accountNumber: request.accountNumber,
            holder: request.request === 'transfer' ? request.newHolder : request.holder,
            ...(request.request === 'transfer' ? { property: request.property } : { matter: request.matter }),
            effectiveDate: request.effectiveDate,
            ...(request.recipient === undefined ? {} : { recipient: request.recipient }),
            materials,
          });
    return applied.then((a) => a.reference);
  }

  /** Each material through its link, under the member's token, checked against its SHA-256; only links of the gateway are followed. */
  private async fetchMaterials(request: RecipientRequest, token: string): Promise<SentMaterial[]> {
    const gateway = this.config.transfers.gatewayPublicUrl;
    const materials: SentMaterial[] = [];
    for (const m of request.materials) {
      // The member's token goes to datarun's gateway and nowhere else.
      if (!isMaterialLinkOf(m.url, gateway)) throw new Problem('LINK_INVALID', `material ${m.type}: its link is not a material link of the gateway`);
      const fetched = await this.retrying(async () => {
        const res = await this.call(m.url, { headers: { authorization: `Bearer ${token}` } });
        if (res.status >= 500 || res.status === 429) throw new Transient(`material ${m.type}: the gateway answered ${res.status}`);
        if (!res.ok) {
          const problem = (await res.json().catch(() => ({}))) as { code?: string };
          throw new Problem('LINK_INVALID', `material ${m.type}: the gateway refused it (${problem.code ?? res.status})`);
        }
        return {
          contentType: res.headers.get('content-type')?.split(';')[0].trim() || 'application/octet-stream',
          bytes: Buffer.from(await res.arrayBuffer()),
        };
      });
      if (fetched.bytes.length > APPLIED_MATERIAL_MAX_BYTES) throw new Problem('PAYLOAD_TOO_LARGE', `material ${m.type} is ${fetched.bytes.length} bytes`);
      const sha256 = createHash('sha256').update(fetched.bytes).digest('hex');
      if (sha256 !== m.sha256) throw new Problem('MATERIAL_HASH_MISMATCH', `material ${m.type} has SHA-256 ${sha256}, the request says ${m.sha256}`);
      materials.push({ type: m.type, sha256, contentType: fetched.contentType, size: fetched.bytes.length, content: fetched.bytes.toString('base64') });
    }
    return materials;
  }

  /** The outcome to the gateway, as the request's recipient: its HTTP status (a 4xx is final, not retried). */
  private async answer(requestId: string, status: object, token: string): Promise<number> {
    const res = await this.call(`${this.config.transfers.gatewayPublicUrl}/v1/requests/${requestId}/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(status),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 500 || res.status === 429) throw new Transient(`the gateway answered ${res.status}`);
    return res.status;
  }

  /** A call to the gateway under the work's correlation id; no redirect followed, a network failure transient. */
  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...propagationHeaders(RequestContext.correlationId()) },
        redirect: 'manual',
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new Transient(`cannot reach the gateway: ${(error as Error).message}`);
    }
  }

  private async retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await work();
      } catch (error) {
        if (!(error instanceof Transient) || attempt >= RETRY_MS.length) throw error;
        await new Promise((r) => setTimeout(r, RETRY_MS[attempt]));
      }
    }
  }
}

/** A structured-mode CloudEvent (application/cloudevents+json) as the CloudEvent it carries; throws when it is none. */
function structuredEventOf(body: Buffer): CloudEvent {
  const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const { specversion, id, source, type, time, subject, correlationid, data } = parsed ?? {};
  if (specversion !== '1.0' || typeof id !== 'string' || typeof source !== 'string' || typeof type !== 'string' || data === undefined) {
    throw new MalformedEvent('not a CloudEvents 1.0 structured-mode event');
  }
  return {
    specversion: '1.0',
    id,
    source,
    type,
    time: typeof time === 'string' ? time : new Date(0).toISOString(),
    datacontenttype: 'application/json',
    ...(typeof subject === 'string' ? { subject } : {}),
    ...(typeof correlationid === 'string' ? { correlationid } : {}),
    data,
  };
}
