import type { TopicSpec } from '@datarun/messaging';

export type RequestKind = 'transfer' | 'discount';

export const STATUS_TOPIC = 'datarun.utility.transfer-status.v1';
export const DEAD_LETTER_TOPIC = 'datarun.dead-letter.v1';

/** `datarun.utility.<kind>.transfer-requested.v1` or `…discount-requested.v1` (docs/api.md). */
export function requestTopic(utility: string, request: RequestKind): string {
  return `datarun.utility.${utility}.${request}-requested.v1`;
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
  if (topic === DEAD_LETTER_TOPIC) return { topic, partitions: 1, config: { 'retention.ms': String(30 * 86400_000), 'min.insync.replicas': '1' } };
  return { topic, partitions, config: { 'retention.ms': week, 'min.insync.replicas': '1' } };
}
