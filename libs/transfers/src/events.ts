import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CloudEvent, cloudEvent, MalformedEvent } from '@datarun/messaging';
import { compileTrusted, type TrustedValidator } from '@datarun/schemas';
import type { RequestKind } from './topics.js';

export interface MaterialClaim {
  readonly type: string;
  readonly sha256: string;
  readonly url: string;
}

export interface MaskedHolder {
  readonly name: string;
  readonly idNumberMasked: string;
  /** Only where the matter's entry for this recipient names the field (minimisation per recipient). */
  readonly idNumber?: string;
  readonly role?: string;
}

export interface TransferRequested {
  readonly requestId: string;
  readonly caseId: string;
  readonly utility: string;
  readonly request: 'transfer';
  /** The recipient member (absent in requests planned before recipients were registered). */
  readonly recipient?: string;
  readonly accountNumber: string;
  readonly property: { readonly unitNumber: string; readonly address: string };
  readonly newHolder: MaskedHolder;
  readonly effectiveDate: string;
  readonly materials: readonly MaterialClaim[];
  /**
   * The request's place in datarun's order of requests (its outbox position): of two requests for
   * the same property, or the same account for discounts, the one with the higher sequence is the
   * newer. Absent in requests sent before it was carried.
   */
  readonly sequence?: number;
}

export interface DiscountRequested {
  readonly requestId: string;
  readonly caseId: string;
  readonly utility: string;
  readonly request: 'discount';
  readonly recipient?: string;
  readonly matter: string;
  readonly accountNumber: string;
  readonly holder: MaskedHolder;
  readonly effectiveDate: string;
  readonly materials: readonly MaterialClaim[];
  /**
   * The request's place in datarun's order of requests (its outbox position): of two requests for
   * the same property, or the same account for discounts, the one with the higher sequence is the
   * newer. Absent in requests sent before it was carried.
   */
  readonly sequence?: number;
}

/** A benefit a matter decided, for a recipient member (人社's subsidy, 教育's aid, …): docs/api.md, Recipients. */
export interface BenefitRequested {
  readonly requestId: string;
  readonly caseId: string;
  readonly recipient: string;
  readonly request: 'benefit';
  readonly benefit: string;
  readonly accountNumber?: string;
  readonly beneficiary: MaskedHolder;
  readonly decision: { readonly matter: string; readonly decidedAt: string; readonly validFrom: string; readonly validUntil?: string };
  readonly materials: readonly MaterialClaim[];
  readonly sequence?: number;
}

export type UtilityRequest = TransferRequested | DiscountRequested;
/** Any request a recipient receives. */
export type RecipientRequest = UtilityRequest | BenefitRequested;

/**
 * `superseded`: the recipient did not apply the request because it had applied a newer one for the
 * same property (or account) first; final, like completed and rejected.
 */
export type UtilityState = 'accepted' | 'completed' | 'rejected' | 'superseded';

/**
 * What a request must be ordered against at its recipient: the property it moves (a transfer) or
 * the account it changes (a discount), with its sequence; none for a benefit, or for a request
 * sent before sequences were carried. A recipient that applied a newer request of the same key
 * reports an older one `superseded` instead of applying it (docs/api.md, Order per property).
 */
export function orderOf(request: RecipientRequest): { readonly key: string; readonly sequence: number } | undefined {
  if (request.sequence === undefined) return undefined;
  if (request.request === 'transfer') return { key: `property:${request.property.unitNumber}`, sequence: request.sequence };
  if (request.request === 'discount') return { key: `account:${request.accountNumber}`, sequence: request.sequence };
  return undefined;
}

export interface TransferStatus {
  readonly requestId: string;
  /** The utility kind, for a utility kind's request; a recipient that is not a utility kind names itself in `recipient`. */
  readonly utility?: string;
  readonly recipient?: string;
  readonly state: UtilityState;
  readonly reference?: string;
  readonly reason?: string;
}

export const EVENT_TYPES = {
  transfer: 'datarun.utility.transfer-requested.v1',
  discount: 'datarun.utility.discount-requested.v1',
  benefit: 'datarun.recipients.benefit-requested.v1',
  status: 'datarun.utility.transfer-status.v1',
} as const;

const SCHEMA_FILES: Record<keyof typeof EVENT_TYPES, string> = {
  transfer: 'transfer-requested.v1.json',
  discount: 'discount-requested.v1.json',
  benefit: 'benefit-requested.v1.json',
  status: 'transfer-status.v1.json',
};

const validators = new Map<keyof typeof EVENT_TYPES, TrustedValidator>();

/** The validator of one event body, compiled from schemas/events once per process. */
function validatorOf(kind: keyof typeof EVENT_TYPES): TrustedValidator {
  let validate = validators.get(kind);
  if (!validate) {
    // Apps run from the repository root (npm start, tests, the container's WORKDIR).
    validate = compileTrusted(JSON.parse(readFileSync(join(process.cwd(), 'schemas/events', SCHEMA_FILES[kind]), 'utf8')));
    validators.set(kind, validate);
  }
  return validate;
}

/**
 * Throws MalformedEvent naming the first violations when `body` breaks the event's schema, or holds
 * U+0000 anywhere: PostgreSQL's text and jsonb cannot store it, so a status carrying one would make
 * its whole batch's transaction fail on every redelivery. Refused where the event is read, it is
 * one message's fault (dead-lettered) and the rest of the batch is applied.
 */
export function assertEventBody(kind: keyof typeof EVENT_TYPES, body: unknown): void {
  const verdict = validatorOf(kind)(body);
  if (!verdict.ok) {
    const details = verdict.errors
      .slice(0, 5)
      .map((e) => `${e.path || '/'} ${e.message}`)
      .join('; ');
    throw new MalformedEvent(`${EVENT_TYPES[kind]} body breaks schemas/events/${SCHEMA_FILES[kind]}: ${details}`);
  }
  const at = nulPointerOf(body);
  if (at !== undefined) throw new MalformedEvent(`${EVENT_TYPES[kind]} body holds U+0000 at ${at || '/'}, which PostgreSQL cannot store`);
}

/** The JSON pointer of the first string (value or property name) holding U+0000 in `value`; undefined when none does. */
function nulPointerOf(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [name, item] of Object.entries(value)) {
    const here = `${path}/${name
      .replace(/~/g, '~0')
      .replace(/\//g, '~1')
      .replace(/\u0000/g, '\\u0000')}`;
    if (name.includes('\u0000')) return here;
    const found = nulPointerOf(item, here);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Reads a utility request back: the event type must match the topic's request kind, the body its schema. */
export function utilityRequestOf(event: CloudEvent, expected: 'transfer' | 'discount'): UtilityRequest {
  return requestOf(event, [expected]) as UtilityRequest;
}

/**
 * Reads any request back from a topic that carries `accepted` kinds (a recipient's own topic
 * carries several, the event type naming which): the type must be one of them, the body its schema.
 */
export function requestOf(event: CloudEvent, accepted: readonly RequestKind[]): RecipientRequest {
  const kind = accepted.find((k) => EVENT_TYPES[k] === event.type);
  if (!kind) throw new MalformedEvent(`expected ce_type ${accepted.map((k) => EVENT_TYPES[k]).join(' or ')}, got ${event.type}`);
  assertEventBody(kind, event.data);
  const request = event.data as RecipientRequest;
  if (request.requestId !== event.id) throw new MalformedEvent(`ce_id ${event.id} is not the request id ${request.requestId}`);
  return request;
}

export function transferStatusOf(event: CloudEvent): TransferStatus {
  if (event.type !== EVENT_TYPES.status) throw new MalformedEvent(`expected ce_type ${EVENT_TYPES.status}, got ${event.type}`);
  assertEventBody('status', event.data);
  return event.data as TransferStatus;
}

/** A status event as a utility publishes it; validated before it leaves. */
export function statusEvent(source: string, status: TransferStatus): CloudEvent<TransferStatus> {
  assertEventBody('status', status);
  return cloudEvent({ type: EVENT_TYPES.status, source, subject: status.requestId, data: status });
}
