import type { EgressPolicy } from '@datarun/egress';
import { Problem } from '@datarun/problems';
import type { MemberKind } from '../members/member.entity.js';
import type { RecipientSettings } from './recipient-directory.js';
import { RECIPIENT_DELIVERIES, RECIPIENT_REQUEST_KINDS, type RecipientDelivery, type RecipientRequestKind, UTILITY_KINDS } from './recipient.entity.js';

/** The recipient settings a member registration or PUT /v1/members/{id}/recipient sends. */
export interface RecipientSettingsInput {
  readonly delivery: RecipientDelivery;
  readonly endpoint?: string;
  readonly requests: readonly RecipientRequestKind[];
  readonly utilityKind?: string;
}

/** The members that receive requests: a utility company, or a department granting benefits. */
export const RECIPIENT_MEMBER_KINDS: readonly MemberKind[] = ['utility', 'department'];

const invalid = (why: string) => new Problem('VALIDATION_FAILED', `recipient: ${why}`);

/**
 * The settings as stored, checked against the member they are for: only a utility or department
 * receives; only a utility receives for a utility kind; a webhook has an endpoint on the egress
 * allowlist (400 ENDPOINT_NOT_ALLOWED, as a federated source's), a Kafka recipient none.
 * Whether another member already receives for the kind is the store's to say.
 */
export function checkedRecipientSettings(kind: MemberKind, input: RecipientSettingsInput, egress: EgressPolicy): RecipientSettings {
  if (!RECIPIENT_MEMBER_KINDS.includes(kind))
    throw invalid(`only ${RECIPIENT_MEMBER_KINDS.join(' and ')} members receive requests, not a member of kind ${kind}`);
  if (!RECIPIENT_DELIVERIES.includes(input.delivery)) throw invalid(`delivery must be one of ${RECIPIENT_DELIVERIES.join(', ')}`);
  if (!Array.isArray(input.requests) || input.requests.length === 0) throw invalid('requests must name at least one request kind');
  const unknown = input.requests.filter((r) => !RECIPIENT_REQUEST_KINDS.includes(r));
  if (unknown.length) throw invalid(`requests may be only ${RECIPIENT_REQUEST_KINDS.join(', ')}, not ${unknown.join(', ')}`);
  if (input.utilityKind !== undefined) {
    if (!(UTILITY_KINDS as readonly string[]).includes(input.utilityKind)) throw invalid(`utilityKind must be one of ${UTILITY_KINDS.join(', ')}`);
    if (kind !== 'utility') throw invalid(`only a utility member receives for a utility kind, not a member of kind ${kind}`);
  }
  if (input.delivery === 'webhook') {
    if (input.endpoint === undefined) throw invalid('a webhook recipient needs an endpoint');
    // Where the relay may post (EGRESS_ALLOWLIST), as a federated source's endpoint: 400 ENDPOINT_NOT_ALLOWED.
    egress.check(input.endpoint);
  } else if (input.endpoint !== undefined) {
    throw invalid('only a webhook recipient has an endpoint (a kafka recipient consumes its topics)');
  }
  return {
    delivery: input.delivery,
    ...(input.endpoint !== undefined ? { endpoint: input.endpoint } : {}),
    requests: RECIPIENT_REQUEST_KINDS.filter((r) => input.requests.includes(r)),
    ...(input.utilityKind !== undefined ? { utilityKind: input.utilityKind as RecipientSettings['utilityKind'] } : {}),
  };
}
