import { randomUUID } from 'node:crypto';
import { KafkaMessaging } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { EachMessagePayload } from '@datarun/messaging';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { DLQ_HEADERS, headerText, withoutDlqHeaders } from '../dead-letters.js';
import { UtilityTopics } from '../relay/utility-topics.js';
import { DEAD_LETTER_TOPIC } from '../topics.js';
import { DeadLetterSeal } from './dead-letter-seal.js';

/**
 * One group for all relay instances of a deployment, so each dead letter is recorded by one of
 * them. Deployments (and test runs) sharing a broker keep apart by KAFKA_TOPIC_PREFIX, which
 * prefixes this group as well as the topic: with one group between two databases, each would
 * list only the dead letters it happened to be assigned.
 */
export const RELAY_DEAD_LETTER_GROUP = 'datarun-relay-dead-letters';

/**
 * Records every message of `datarun.dead-letter.v1` in the `dead_letter` table, where operators
 * list and replay them (DeadLettersService). The row keeps the original key, value bytes and
 * headers (without the `datarun-dlq-*` ones, which become columns), so a replay can publish the
 * original again.
 *
 * Idempotent by the dead letter's own position (partition, offset): a redelivery after a crash
 * between insert and offset commit inserts nothing. A message that lacks the dead-letter headers
 * (not written by `deadLetter()`) is still recorded, with an empty topic, so nothing on the topic
 * goes unseen; it cannot be replayed. Nor can a message whose seal does not show that datarun or
 * the connector of its topic's recipient dead-lettered it (DeadLetterSeal): it is recorded as
 * planted, and its headers' claims (topic, reason, who) are only what it says of itself.
 */
@Injectable()
export class DeadLetterRecorder implements OnApplicationBootstrap {
  private readonly logger = new Logger('DeadLetterRecorder');
  readonly recorded: Counter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly messaging: KafkaMessaging,
    private readonly topics: UtilityTopics,
    private readonly seal: DeadLetterSeal,
    metrics: Metrics,
  ) {
    this.recorded = new Counter({
      name: 'datarun_dead_letters_recorded_total',
      help: 'Dead letters recorded for listing and replay, by whether they were planted (no valid seal)',
      labelNames: ['planted'] as const,
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.messaging.keepStarting(`consuming ${DEAD_LETTER_TOPIC}`, async () => {
      await this.topics.ensure();
      await this.messaging.consume({ groupId: RELAY_DEAD_LETTER_GROUP, topics: [DEAD_LETTER_TOPIC], onMessage: (p) => this.record(p).then(() => undefined) });
    });
  }

  /**
   * Records one dead letter; false when that position was recorded before (a redelivery).
   *
   * PostgreSQL text and jsonb cannot hold U+0000, and a dead letter cannot be dead-lettered: a NUL
   * in its reason, its headers or its key would fail this insert on every redelivery and stop the
   * recording for good. Each becomes U+FFFD instead, so the row is written; a key or headers so
   * changed are no longer the original's, so such a dead letter is kept as one never replayed.
   */
  async record({ partition, message }: Pick<EachMessagePayload, 'partition' | 'message'>): Promise<boolean> {
    const topic = storable(headerText(message.headers, DLQ_HEADERS.topic) ?? '');
    const reason = storable(headerText(message.headers, DLQ_HEADERS.reason) ?? `no ${DLQ_HEADERS.reason} header`);
    const by = storable(headerText(message.headers, DLQ_HEADERS.by) ?? 'unknown');
    const claimed = new Date(headerText(message.headers, DLQ_HEADERS.at) ?? Number.NaN);
    const at = Number.isNaN(claimed.getTime()) ? new Date(Number(message.timestamp)) : claimed;
    const originalKey = message.key?.toString('utf8') ?? null;
    const originalHeaders = Object.entries(withoutDlqHeaders(message.headers));
    const key = originalKey === null ? null : storable(originalKey);
    const headers = Object.fromEntries(originalHeaders.map(([name, value]) => [storable(name), storable(value)]));
    const altered = key !== originalKey || originalHeaders.some(([name, value]) => headers[name] !== value);
    const checked = await this.seal.check(message);
    const verdict: typeof checked = altered
      ? { sealed: false, reason: 'its key or headers hold U+0000, which PostgreSQL cannot store (recorded as U+FFFD): it cannot be replayed as it was' }
      : checked;
    const inserted: unknown[] = await this.dataSource.query(
      `INSERT INTO dead_letter (id, dlq_partition, dlq_offset, topic, message_key, value, headers, reason, dead_lettered_by, dead_lettered_at, sealed_by, planted_reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (dlq_partition, dlq_offset) DO NOTHING RETURNING 1`,
      [
        randomUUID(),
        partition,
        message.offset,
        topic,
        key,
        message.value,
        JSON.stringify(headers),
        reason,
        by,
        at,
        verdict.sealed ? verdict.by : null,
        verdict.sealed ? null : storable(verdict.reason).slice(0, 2000),
      ],
    );
    if (inserted.length === 0) return false;
    this.recorded.inc({ planted: String(!verdict.sealed) });
    if (verdict.sealed) this.logger.warn(`dead letter from ${topic || '(no topic header)'} by ${by} recorded: ${reason}`);
    else this.logger.warn(`planted dead letter recorded (it cannot be replayed): ${verdict.reason}; it claims ${topic || '(no topic header)'} by ${by}`);
    return true;
  }
}

/** Text PostgreSQL can store: U+0000 replaced by U+FFFD. */
function storable(text: string): string {
  return text.replace(/\u0000/g, '\ufffd');
}
