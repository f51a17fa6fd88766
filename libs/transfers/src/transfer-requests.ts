import { Problem } from '@datarun/problems';
import type { MaskedHolder } from './events.js';
import { type RecipientRoute, type RequestKind, topicFor } from './topics.js';

export interface CompletingCase {
  readonly id: string;
  readonly matterCode: string;
  readonly parties: ReadonlyArray<{ idNumber: string; name: string; role: string }>;
  readonly property: { unitNumber: string; address: string } | null;
  readonly utilityAccounts: Readonly<Record<string, string>> | null;
}

/** A matter's notification with its recipient resolved (the registry's word at completion). */
export interface RoutedNotification {
  readonly recipient: RecipientRoute;
  readonly request: RequestKind;
  /** The benefit's code, for a benefit request. */
  readonly benefit?: string;
  /** What this recipient receives about the beneficiary beyond name and masked ID number (`idNumber`, `role`). */
  readonly fields?: readonly string[];
  readonly materials: readonly string[];
  /** The role of the party who becomes (or is) the account holder or beneficiary; absent = the first party. */
  readonly holderRole?: string;
  /** Only when the case names an account for the recipient's utility kind (cable, broadband in a transfer). */
  readonly optional?: boolean;
}

export interface UploadedMaterial {
  readonly id: string;
  readonly type: string;
  readonly sha256: string;
}

/** What the outbox stores: the event body without links (the relay signs them when it publishes). */
export interface PlannedRequest {
  readonly requestId: string;
  readonly recipient: string;
  /** The utility kind, for a kind's transfer or discount; null otherwise. */
  readonly utility: string | null;
  readonly request: RequestKind;
  readonly benefit: string | null;
  readonly topic: string;
  readonly key: string;
  readonly payload: Record<string, unknown> & { materials: ReadonlyArray<{ type: string; sha256: string; materialId: string }> };
}

/** 110105********002X: the first six (region) and last four characters, as utilities need no more. */
export function maskIdNumber(idNumber: string): string {
  return `${idNumber.slice(0, 6)}********${idNumber.slice(-4)}`;
}

/** The calendar date in China Standard Time (UTC+8, no daylight saving), as utilities book it. */
export function effectiveDateOf(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** What identifies a request rather than describes someone: not counted among the fields it discloses. */
const ENVELOPE = new Set(['requestId', 'caseId', 'utility', 'recipient', 'request']);
/** The payload members that describe a person (`MaskedHolder`): their own fields are what is disclosed. */
const PERSONS = new Set(['newHolder', 'holder', 'beneficiary']);

/**
 * The fields a request discloses to its recipient, as the citizen's access log names them: the
 * holder's own fields (`name`, `idNumberMasked`) and the rest of the body (`property`,
 * `accountNumber`, `materials`, …), without the request's identifiers.
 */
export function disclosedFields(payload: Readonly<Record<string, unknown>>): string[] {
  const fields = Object.entries(payload).flatMap(([key, value]) =>
    ENVELOPE.has(key) ? [] : PERSONS.has(key) && value !== null && typeof value === 'object' ? Object.keys(value) : [key],
  );
  return [...new Set(fields)].sort();
}

/**
 * The parties of a case whose personal data a request carries: those its holder names (name and
 * masked ID number, all a request carries of a person). The seller of a transfer is in no request.
 * Two parties of one case with the same name and masked ID number are both named: the recipient
 * cannot tell them apart either.
 */
export function disclosedParties<P extends { readonly idNumber: string; readonly name: string }>(
  payload: Readonly<Record<string, unknown>>,
  parties: readonly P[],
): P[] {
  const holders = [...PERSONS]
    .map((key) => payload[key] as Partial<MaskedHolder> | undefined)
    .filter((h): h is Partial<MaskedHolder> => h !== null && typeof h === 'object');
  return parties.filter((p) => holders.some((h) => h.name === p.name && h.idNumberMasked === maskIdNumber(p.idNumber)));
}

/** The ways planRequests names things it does not decide: request ids, and the beneficiary's subject pseudonym (a benefit's key). */
export interface PlanningIds {
  readonly newId: () => string;
  readonly pseudonymOf: (idNumber: string) => string;
}

/**
 * Plans one request per notification of the matter, with only what that recipient needs (docs/api.md
 * "carries what the utility needs and no more"; a matter entry's `fields` add what one recipient
 * needs beyond the name and masked ID number). Refuses, naming what is missing, when the case lacks
 * an account number, the property, the holder or a material the matter routes: a request a
 * recipient cannot act on must not leave. An optional notification whose account the case does not
 * name is left out.
 */
export function planRequests(
  c: CompletingCase,
  notifications: readonly RoutedNotification[],
  uploaded: readonly UploadedMaterial[],
  completedAt: Date,
  ids: PlanningIds,
): PlannedRequest[] {
  const missing: string[] = [];
  const planned: PlannedRequest[] = [];
  for (const n of notifications) {
    const kind = n.recipient.utilityKind ?? undefined;
    const account = kind ? c.utilityAccounts?.[kind] : undefined;
    if (n.optional && !account) continue;
    const needsAccount = n.request !== 'benefit';
    if (needsAccount && !account) missing.push(`utilityAccounts.${kind ?? n.recipient.memberId}`);
    const holder = n.holderRole ? c.parties.find((p) => p.role === n.holderRole) : c.parties[0];
    if (!holder) missing.push(`a party with role ${n.holderRole}`);
    if (n.request === 'transfer' && !c.property) missing.push('property');
    const materials = n.materials.map((type) => {
      const found = uploaded.find((m) => m.type === type);
      if (!found) missing.push(`material ${type} (upload it with PUT /v1/cases/${c.id}/materials/${type})`);
      return found ? { type, sha256: found.sha256, materialId: found.id } : undefined;
    });
    if ((needsAccount && !account) || !holder || (n.request === 'transfer' && !c.property) || materials.includes(undefined)) continue;
    const requestId = ids.newId();
    const fields = new Set(n.fields ?? []);
    const person = {
      name: holder.name,
      idNumberMasked: maskIdNumber(holder.idNumber),
      ...(fields.has('idNumber') ? { idNumber: holder.idNumber } : {}),
      ...(fields.has('role') ? { role: holder.role } : {}),
    };
    const routed = materials as Array<{ type: string; sha256: string; materialId: string }>;
    const envelope = {
      requestId,
      recipient: n.recipient.memberId,
      utility: n.request === 'benefit' ? null : kind!,
      request: n.request,
      benefit: n.request === 'benefit' ? n.benefit! : null,
      topic: topicFor(n.recipient, n.request),
    };
    const effectiveDate = effectiveDateOf(completedAt);
    if (n.request === 'benefit') {
      planned.push({
        ...envelope,
        key: ids.pseudonymOf(holder.idNumber),
        payload: {
          requestId,
          caseId: c.id,
          recipient: n.recipient.memberId,
          request: 'benefit',
          benefit: n.benefit!,
          ...(account ? { accountNumber: account } : {}),
          beneficiary: person,
          decision: { matter: c.matterCode, decidedAt: completedAt.toISOString(), validFrom: effectiveDate },
          materials: routed,
        },
      });
      continue;
    }
    const common = {
      requestId,
      caseId: c.id,
      utility: kind!,
      recipient: n.recipient.memberId,
      request: n.request,
      accountNumber: account!,
      effectiveDate,
      materials: routed,
    };
    planned.push(
      n.request === 'transfer'
        ? { ...envelope, key: c.property!.unitNumber, payload: { ...common, property: { ...c.property! }, newHolder: person } }
        : { ...envelope, key: account!, payload: { ...common, matter: c.matterCode, holder: person } },
    );
  }
  if (missing.length)
    throw new Problem('VALIDATION_FAILED', `the case cannot be completed: the matter ${c.matterCode} needs ${[...new Set(missing)].join(', ')}`);
  return planned;
}
