import { Problem } from '@datarun/problems';
import type { MaskedHolder } from './events.js';
import { requestTopic, type RequestKind } from './topics.js';

export interface CompletingCase {
  readonly id: string;
  readonly matterCode: string;
  readonly parties: ReadonlyArray<{ idNumber: string; name: string; role: string }>;
  readonly property: { unitNumber: string; address: string } | null;
  readonly utilityAccounts: Readonly<Record<string, string>> | null;
}

export interface RoutedNotification {
  readonly notify: string;
  readonly request: RequestKind;
  readonly materials: readonly string[];
  /** The role of the party who becomes (or is) the account holder; absent = the first party. */
  readonly holderRole?: string;
}

export interface UploadedMaterial {
  readonly id: string;
  readonly type: string;
  readonly sha256: string;
}

/** What the outbox stores: the event body without links (the relay signs them when it publishes). */
export interface PlannedRequest {
  readonly requestId: string;
  readonly utility: string;
  readonly request: RequestKind;
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
const ENVELOPE = new Set(['requestId', 'caseId', 'utility', 'request']);
/** The payload members that describe a person (`MaskedHolder`): their own fields are what is disclosed. */
const PERSONS = new Set(['newHolder', 'holder']);

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

/**
 * Plans one request per notification of the matter, with only what that recipient needs (docs/api.md
 * "carries what the utility needs and no more"). Refuses, naming what is missing, when the case
 * lacks an account number, the property, the holder or a material the matter routes: a request a
 * utility cannot act on must not leave.
 */
export function planRequests(
  c: CompletingCase,
  notifications: readonly RoutedNotification[],
  uploaded: readonly UploadedMaterial[],
  completedAt: Date,
  newId: () => string,
): PlannedRequest[] {
  const missing: string[] = [];
  const planned: PlannedRequest[] = [];
  for (const n of notifications) {
    const account = c.utilityAccounts?.[n.notify];
    if (!account) missing.push(`utilityAccounts.${n.notify}`);
    const holder = n.holderRole ? c.parties.find((p) => p.role === n.holderRole) : c.parties[0];
    if (!holder) missing.push(`a party with role ${n.holderRole}`);
    if (n.request === 'transfer' && !c.property) missing.push('property');
    const materials = n.materials.map((type) => {
      const found = uploaded.find((m) => m.type === type);
      if (!found) missing.push(`material ${type} (upload it with PUT /v1/cases/${c.id}/materials/${type})`);
      return found ? { type, sha256: found.sha256, materialId: found.id } : undefined;
    });
    if (!account || !holder || (n.request === 'transfer' && !c.property) || materials.includes(undefined)) continue;
    const requestId = newId();
    const common = {
      requestId,
      caseId: c.id,
      utility: n.notify,
      request: n.request,
      accountNumber: account,
      effectiveDate: effectiveDateOf(completedAt),
      materials: materials as Array<{ type: string; sha256: string; materialId: string }>,
    };
    const person = { name: holder.name, idNumberMasked: maskIdNumber(holder.idNumber) };
    planned.push(
      n.request === 'transfer'
        ? {
            requestId,
            utility: n.notify,
            request: n.request,
            topic: requestTopic(n.notify, 'transfer'),
            key: c.property!.unitNumber,
            payload: { ...common, property: { ...c.property! }, newHolder: person },
          }
        : {
            requestId,
            utility: n.notify,
            request: n.request,
            topic: requestTopic(n.notify, 'discount'),
            key: account,
            payload: { ...common, matter: c.matterCode, holder: person },
          },
    );
  }
  if (missing.length)
    throw new Problem('VALIDATION_FAILED', `the case cannot be completed: the matter ${c.matterCode} needs ${[...new Set(missing)].join(', ')}`);
  return planned;
}
