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
}

export interface TransferRequested {
  readonly requestId: string;
  readonly caseId: string;
  readonly utility: string;
  readonly request: 'transfer';
  readonly accountNumber: string;
  readonly property: { readonly unitNumber: string; readonly address: string };
  readonly newHolder: MaskedHolder;
  readonly effectiveDate: string;
  readonly materials: readonly MaterialClaim[];
}

export interface DiscountRequested {
  readonly requestId: string;
  readonly caseId: string;
  readonly utility: string;
  readonly request: 'discount';
  readonly matter: string;
  readonly accountNumber: string;
  readonly holder: MaskedHolder;
  readonly effectiveDate: string;
  readonly materials: readonly MaterialClaim[];
}

export type UtilityRequest = TransferRequested | DiscountRequested;

export type UtilityState = 'accepted' | 'completed' | 'rejected';

export interface TransferStatus {
  readonly requestId: string;
  readonly utility: string;
  readonly state: UtilityState;
  readonly reference?: string;
  readonly reason?: string;
}

export const EVENT_TYPES = {
  transfer: 'datarun.utility.transfer-requested.v1',
  discount: 'datarun.utility.discount-requested.v1',
  status: 'datarun.utility.transfer-status.v1',
} as const;

const SCHEMA_FILES: Record<keyof typeof EVENT_TYPES, string> = {
  transfer: 'transfer-requested.v1.json',
  discount: 'discount-requested.v1.json',
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

/** Throws MalformedEvent naming the first violations when `body` breaks the event's schema. */
export function assertEventBody(kind: keyof typeof EVENT_TYPES, body: unknown): void {
  const verdict = validatorOf(kind)(body);
  if (!verdict.ok) {
    const details = verdict.errors
      .slice(0, 5)
      .map((e) => `${e.path || '/'} ${e.message}`)
      .join('; ');
    throw new MalformedEvent(`${EVENT_TYPES[kind]} body breaks schemas/events/${SCHEMA_FILES[kind]}: ${details}`);
  }
}

/** Reads a utility request back: the event type must match the topic's request kind, the body its schema. */
export function utilityRequestOf(event: CloudEvent, expected: RequestKind): UtilityRequest {
  if (event.type !== EVENT_TYPES[expected]) throw new MalformedEvent(`expected ce_type ${EVENT_TYPES[expected]}, got ${event.type}`);
  assertEventBody(expected, event.data);
  const request = event.data as UtilityRequest;
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
