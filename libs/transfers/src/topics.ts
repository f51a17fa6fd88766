import type { TopicSpec } from '@datarun/messaging';

/** What a recipient is asked to do: a utility account moved or discounted, or a benefit granted (docs/api.md). */
export type RequestKind = 'transfer' | 'discount' | 'benefit';
export const REQUEST_KINDS: readonly RequestKind[] = ['transfer', 'discount', 'benefit'];

export const STATUS_TOPIC = 'datarun.utility.transfer-status.v1';
export const DEAD_LETTER_TOPIC = 'datarun.dead-letter.v1';

/** `datarun.utility.<kind>.transfer-requested.v1` or `…discount-requested.v1` (docs/api.md). */
export function requestTopic(utility: string, request: RequestKind): string {
  return `datarun.utility.${utility}.${request}-requested.v1`;
}

/** `datarun.recipients.<member id>.requested.v1`: every request for a recipient that is not a utility kind's transfer or discount. */
export function recipientTopic(member: string): string {
  return `datarun.recipients.${member}.requested.v1`;
}

/** Who a request goes to, as far as its topic depends on it: the member, and the utility kind it receives for (if any). */
export interface RecipientRoute {
  readonly memberId: string;
  readonly utilityKind?: string | null;
}

/**
 * The one rule for where a request is published: a utility kind's transfers and discounts stay on
 * the kind's own topics (unchanged for the connectors that read them); everything else
 * for a member goes to that member's topic, the event type naming the request.
 */
export function topicFor(recipient: RecipientRoute, request: RequestKind): string {
  return recipient.utilityKind && request !== 'benefit' ? requestTopic(recipient.utilityKind, request) : recipientTopic(recipient.memberId);
}

/** Every topic a recipient's requests arrive on: what its connector (or the relay's webhook delivery) consumes. */
export function topicsOf(recipient: RecipientRoute & { readonly requests: readonly RequestKind[] }): string[] {
  return [...new Set(recipient.requests.map((request) => topicFor(recipient, request)))].sort();
}

export function recordsTopic(source: string): string {
  return `datarun.records.${source}.v1`;
}

export const RECORDS_TOPIC = /^datarun\.records\.([a-z][a-z0-9-]*)\.v1$/;

/**
 * Topic configs of the project (never broker auto-creation). Utility requests and statuses are
 * kept a week so a utility that was offline for days still catches up; dead letters a month, for
 * operators to look at and replay.
 */
export function topicSpec(topic: string, partitions: number): TopicSpec {
  const week = String(7 * 86400_000);
  if (topic === DEAD_LETTER_TOPIC) return { topic, partitions: 1, config: { 'retention.ms': String(30 * 86400_000) } };
  return { topic, partitions, config: { 'retention.ms': week } };
}
