import { SubjectPseudonyms } from '@datarun/audit';
import type { Caller } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { fromKafkaMessage, KafkaMessaging, MalformedEvent } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { Problem } from '@datarun/problems';
import { MemberKeyDirectory, SourcesService } from '@datarun/registry';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Consumer, EachMessagePayload, KafkaMessage } from '@datarun/messaging';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { headerText, type OriginalMessage } from '../dead-letters.js';
import { DeadLetterSeal } from '../ops/dead-letter-seal.js';
import { RECORD_EVENT_TYPE, SIGNATURE_HEADER, verifyEventSignature } from '../signed-event.js';
import { DEAD_LETTER_TOPIC, RECORDS_TOPIC, recordsTopic, topicSpec } from '../topics.js';
import { InterruptibleSleep } from './interruptible-sleep.js';

export const RELAY_RECORDS_GROUP = 'datarun-relay-records';
const POLL_MS = 3000;
/**
 * PostgreSQL error classes that mean this record can never be stored as it is (22 data exception,
 * e.g. a \u0000 that jsonb refuses; 54 program limit, e.g. a key too long for the index):
 * dead-lettered, or it would be redelivered forever and stall its partition. Anything else
 * (connection lost, the audit log unavailable, a constraint race) is an outage: the message is
 * redelivered until it is stored, because dead-lettering through an outage would turn every
 * record of the outage into an operator's chore.
 */
const UNSTORABLE_SQLSTATE = /^(22|54)/;

type Verdict =
  | { readonly stored: true }
  /** The record stored last for its subject, again (a redelivery, or a replay after a newer HTTP push): nothing to do. */
  | { readonly stored: false; readonly duplicate: true }
  | { readonly stored: false; readonly duplicate?: false; readonly reason: string };

/**
 * Record ingest over Kafka (docs/api.md: `datarun.records.<source>.v1`, keyed by subject key): a
 * department may publish its records instead of calling `PUT /v1/sources/{id}/records`. Each event
 * must be signed by the member its `ce_source` names (a detached JWS in `datarun-signature`, bound
 * to this topic, that member, the subject key value as Kafka key and the time it was signed); it is
 * then ingested through the registry's own `SourcesService.ingest` as that member, so ownership,
 * the role, schema validation, the upsert and the audit event are exactly those of the HTTP ingest.
 * No rollback: a record not signed after the newest one ingested for its subject (record_version)
 * is refused, and that newest one again is skipped, so an old signed record replayed onto the
 * topic cannot bring old data back.
 * An event refused for any reason is dead-lettered (sealed by datarun) with the reason and the
 * consumer carries on.
 *
 * Topics: the registry has no Kafka, so the relay creates a records topic for every replica source
 * (polling the registry's replica sources) and, since kafkajs resolves a subscription only when it subscribes,
 * restarts its consumer with the full list whenever the set changes.
 */
@Injectable()
export class RecordIngest implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RecordIngest');
  private readonly ensured = new Set<string>();
  /** Subject key per records topic, from the last poll (a source's subject key never changes). */
  private subjectKeys = new Map<string, string>();
  private consumer?: Consumer;
  /** Topics of the running consumer, sorted; empty while none runs. */
  private subscribed: string[] = [];
  private stopped = false;
  private loop?: Promise<void>;
  private readonly pause = new InterruptibleSleep();
  readonly outcomes: Counter;

  constructor(
    private readonly messaging: KafkaMessaging,
    private readonly sources: SourcesService,
    private readonly keys: MemberKeyDirectory,
    private readonly dataSource: DataSource,
    private readonly pseudonyms: SubjectPseudonyms,
    private readonly seal: DeadLetterSeal,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    metrics: Metrics,
  ) {
    this.outcomes = new Counter({
      name: 'datarun_relay_records_total',
      help: 'Records consumed from records topics, by outcome',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  /** Before the messaging module closes its client (onApplicationShutdown), so no restart races it. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    await this.loop;
    await this.stopConsumer();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.refresh();
      } catch (error) {
        // Readiness names a broker or database outage; the next poll tries again.
        this.logger.warn(`records topics not refreshed, next try in ${POLL_MS} ms: ${(error as Error).message}`);
      }
      await this.pause.sleep(POLL_MS);
    }
  }

  /**
   * Makes the records topics of the replica sources and consumes exactly those. Several relays
   * share the group: until each has polled, their subscriptions differ and kafkajs drops partitions
   * assigned for topics a member did not subscribe to; within one poll period all agree again, and
   * nothing is lost meanwhile because unconsumed offsets stay uncommitted.
   */
  private async refresh(): Promise<void> {
    const replicas = await this.sources.replicaSources();
    const topics = replicas.map((r) => recordsTopic(r.id));
    this.subjectKeys = new Map(replicas.map((r) => [recordsTopic(r.id), r.subjectKey]));
    const missing = [DEAD_LETTER_TOPIC, ...topics].filter((t) => !this.ensured.has(t));
    if (missing.length > 0) {
      await this.messaging.ensureTopics(missing.map((t) => topicSpec(t, this.config.transfers.topicPartitions)));
      for (const t of missing) this.ensured.add(t);
      this.logger.log(`records topics ready: ${missing.join(', ')}`);
    }
    if (this.stopped || sameList(topics, this.subscribed)) return;
    await this.stopConsumer();
    if (topics.length === 0) return;
    this.consumer = await this.messaging.consume({
      groupId: RELAY_RECORDS_GROUP,
      topics,
      onMessage: (payload) => this.handle(payload),
      onCrash: () => {
        // kafkajs gave up on this consumer; the next poll starts a new one.
        this.subscribed = [];
      },
    });
    this.subscribed = topics;
    this.logger.log(`consuming ${topics.length} records topic(s) in group ${RELAY_RECORDS_GROUP}`);
  }

  private async stopConsumer(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.subscribed = [];
    if (consumer) await this.messaging.stopConsumer(consumer);
  }

  async handle({ topic, partition, message }: EachMessagePayload): Promise<void> {
    const verdict = await this.ingest(topic, message);
    if (verdict.stored) {
      this.outcomes.inc({ outcome: 'stored' });
      return;
    }
    if (verdict.duplicate) {
      this.outcomes.inc({ outcome: 'duplicate' });
      return;
    }
    const original: OriginalMessage = { topic, key: message.key, value: message.value, headers: message.headers };
    this.logger.warn(`dead-lettering ${topic}[${partition}]@${message.offset}: ${verdict.reason}`);
    await this.messaging.publish(DEAD_LETTER_TOPIC, [await this.seal.letter(original, verdict.reason, 'relay')]);
    this.outcomes.inc({ outcome: 'dead-lettered' });
  }

  /** Stores one record event, or says why not. Throws only for outages (the message comes again). */
  private async ingest(topic: string, message: KafkaMessage): Promise<Verdict> {
    const refuse = (reason: string): Verdict => ({ stored: false, reason });
    const sourceId = RECORDS_TOPIC.exec(topic)?.[1];
    if (!sourceId) return refuse(`${topic} is not a records topic`);
    let event;
    try {
      event = fromKafkaMessage(message);
    } catch (error) {
      if (error instanceof MalformedEvent) return refuse(error.message);
      throw error;
    }
    if (event.type !== RECORD_EVENT_TYPE) return refuse(`ce_type must be ${RECORD_EVENT_TYPE} on a records topic`);

    const key = message.key?.toString('utf8') ?? '';
    const signature = await verifyEventSignature(
      message.value as Buffer,
      headerText(message.headers, SIGNATURE_HEADER),
      { topic, source: event.source, subject: key },
      this.keys,
    );
    if (!signature.ok) return refuse(signature.reason);

    // The key places a subject's records on one partition, in order; a record under another key
    // could overtake an older version of itself. (No values in the reason: they are personal data.)
    const subjectKey = this.subjectKeys.get(topic);
    const record = event.data;
    if (subjectKey && isObject(record) && (typeof record[subjectKey] === 'string' || typeof record[subjectKey] === 'number')) {
      if (message.key?.toString('utf8') !== String(record[subjectKey])) return refuse(`the message key must be the record's subject key (${subjectKey})`);
    }

    const caller: Caller = { memberId: event.source, role: signature.member.kind, actor: `kafka:${event.source}` };
    const subjectHash = this.pseudonyms.of(key);
    const signed = headerText(message.headers, SIGNATURE_HEADER) as string;
    const last = await this.lastIngested(sourceId, subjectHash);
    if (last && last.signedAt.getTime() === signature.signedAt.getTime() && last.signature === signed) return { stored: false, duplicate: true };
    if (last && last.signedAt.getTime() >= signature.signedAt.getTime()) {
      return refuse(
        `the record was signed at ${signature.signedAt.toISOString()}, not after the newest record of its subject ingested from ${topic} (${last.signedAt.toISOString()}): an older record does not replace a newer one`,
      );
    }
    try {
      const result = await this.sources.ingest(caller, sourceId, [record]);
      if (result.stored === 1) {
        await this.keepNewest(sourceId, subjectHash, signature.signedAt, signed);
        return { stored: true };
      }
      const errors = result.rejected[0]?.errors ?? [];
      return refuse(`the record breaks the current schema of ${sourceId}: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`);
    } catch (error) {
      if (error instanceof Problem && error.status < 500) {
        // NOT_OWNER, ROLE_FORBIDDEN, SOURCE_NOT_FOUND, STATE_CONFLICT (federated): the event is refused.
        return refuse(`${error.code}: ${error.detail} (ce_source ${JSON.stringify(event.source)})`);
      }
      const sqlState = (error as { code?: unknown }).code;
      if (typeof sqlState === 'string' && UNSTORABLE_SQLSTATE.test(sqlState)) {
        // PostgreSQL quotes the offending input in some messages; reasons are logged, records are not.
        return refuse(`the record cannot be stored (PostgreSQL ${sqlState}): ${(error as Error).message.replace(/"[^"]*"/g, '"…"')}`);
      }
      throw error;
    }
  }

  /**
   * The signed time and signature of the record ingested last for this subject from Kafka. A record
   * must be signed after it; the very same record again (its signature) is a redelivery after a
   * crash or a replay, and is skipped rather than stored: storing it could undo a newer push over
   * HTTP, which this table does not see.
   */
  private async lastIngested(sourceId: string, subjectHash: string): Promise<{ signedAt: Date; signature: string } | undefined> {
    const [kept]: Array<{ signed_at: Date; signature: string }> = await this.dataSource.query(
      'SELECT signed_at, signature FROM record_version WHERE source_id = $1 AND subject_hash = $2',
      [sourceId, subjectHash],
    );
    return kept && { signedAt: kept.signed_at, signature: kept.signature };
  }

  /**
   * Keeps the signed time and signature of a stored record as its subject's newest, after it was
   * stored: a record refused (another department's, one that breaks the schema) must not hold back
   * the owner's next one. Never moves back, whatever order two relays write in during a rebalance.
   */
  private async keepNewest(sourceId: string, subjectHash: string, signedAt: Date, signature: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO record_version (source_id, subject_hash, signed_at, signature) VALUES ($1, $2, $3, $4)
       ON CONFLICT (source_id, subject_hash) DO UPDATE SET signed_at = excluded.signed_at, signature = excluded.signature
       WHERE record_version.signed_at < excluded.signed_at`,
      [sourceId, subjectHash, signedAt, signature],
    );
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
