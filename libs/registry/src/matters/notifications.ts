import { Problem } from '@datarun/problems';
import type { Recipient } from '../recipients/recipient-directory.js';
import { RECIPIENT_REQUEST_KINDS, type RecipientRequestKind } from '../recipients/recipient.entity.js';
import { BENEFICIARY_FIELDS, type MatterNotification } from './matter.entity.js';

/** A matter's `onComplete` entry as registered (docs/api.md, "Matters"). */
export interface NotificationInput {
  readonly notify: string;
  /** Default `transfer`. */
  readonly request?: RecipientRequestKind;
  readonly benefit?: string;
  readonly fields?: readonly string[];
  readonly materials?: readonly string[];
  readonly holderRole?: string;
  readonly optional?: boolean;
}

/** A benefit's code, as matters' and sources' codes. */
export const BENEFIT_CODE = /^[a-z][a-z0-9-]{1,63}$/;

const invalid = (at: number, why: string) => new Problem('VALIDATION_FAILED', `onComplete[${at}] ${why}`);

/**
 * The entries as stored, checked for what they say on their own (request kind, benefit code,
 * fields, materials the matter collects); who they name is checked by `checkRecipients`.
 */
export function notificationsOf(entries: readonly NotificationInput[], matterMaterials: readonly string[]): MatterNotification[] {
  return entries.map((n, at) => {
    const request = n.request ?? 'transfer';
    if (!RECIPIENT_REQUEST_KINDS.includes(request)) throw invalid(at, `request must be one of ${RECIPIENT_REQUEST_KINDS.join(', ')}`);
    if (request === 'benefit' && (n.benefit === undefined || !BENEFIT_CODE.test(n.benefit)))
      throw invalid(at, `is a benefit request: benefit must name the benefit, matching ${BENEFIT_CODE.source}`);
    if (request !== 'benefit' && n.benefit !== undefined) throw invalid(at, `names a benefit, but only a benefit request has one (request is ${request})`);
    const fields = [...new Set(n.fields ?? [])];
    const unknownFields = fields.filter((f) => !(BENEFICIARY_FIELDS as readonly string[]).includes(f));
    if (unknownFields.length) throw invalid(at, `fields may name only ${BENEFICIARY_FIELDS.join(', ')}, not ${unknownFields.join(', ')}`);
    const materials = [...new Set(n.materials ?? [])];
    const unknownMaterials = materials.filter((m) => !matterMaterials.includes(m));
    if (unknownMaterials.length) throw invalid(at, `names materials the matter does not collect: ${unknownMaterials.join(', ')}`);
    return {
      notify: n.notify,
      request,
      ...(request === 'benefit' ? { benefit: n.benefit } : {}),
      fields,
      materials,
      ...(n.holderRole ? { holderRole: n.holderRole } : {}),
      ...(n.optional ? { optional: true } : {}),
    };
  });
}

/**
 * Checks each entry against the recipient its `notify` resolved to (undefined: nobody receives
 * under that name, 404 RECIPIENT_NOT_FOUND): the recipient handles the request; a transfer, a
 * discount or an optional entry needs a utility kind's recipient, since a case keys its accounts
 * by utility kind; and no recipient is asked the same thing twice.
 */
export function checkRecipients(notifications: readonly MatterNotification[], recipients: ReadonlyArray<Recipient | undefined>): void {
  const seen = new Set<string>();
  notifications.forEach((n, at) => {
    const recipient = recipients[at];
    if (!recipient)
      throw new Problem('RECIPIENT_NOT_FOUND', `onComplete[${at}] notifies ${n.notify}, which no member receives for: register its recipient settings first`);
    if (!recipient.requests.includes(n.request))
      throw invalid(at, `asks ${recipient.memberId} for a ${n.request} request, but it handles only ${recipient.requests.join(', ')}`);
    if ((n.request !== 'benefit' || n.optional) && !recipient.utilityKind)
      throw invalid(
        at,
        `${n.optional ? 'is optional' : `is a ${n.request} request`}, which needs the recipient of a utility kind (a case names its accounts by kind); ${recipient.memberId} receives for none`,
      );
    const key = JSON.stringify([recipient.memberId, n.request, n.benefit ?? null]);
    if (seen.has(key)) throw invalid(at, `asks ${recipient.memberId} for the same ${n.request}${n.benefit ? ` (${n.benefit})` : ''} as an earlier entry`);
    seen.add(key);
  });
}
