import { AuditLog, type AuditEventInput, requestSentTo, SubjectPseudonyms } from '@datarun/audit';
import { KeyRing } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { cloudEvent, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Message } from 'kafkajs';
import pg from 'pg';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { assertEventBody, EVENT_TYPES } from '../events.js';
import { type MaterialLinks, materialLinksOf } from '../material-links.js';
import { CaseMatters, type CaseParty } from '../outbox/case-matters.js';
import type { RequestKind } from '../topics.js';
import { disclosedFields, disclosedParties } from '../transfer-requests.js';
import { UtilityTopics } from './utility-topics.js';
import { InterruptibleSleep } from './interruptible-sleep.js';

interface OutboxRow {
  seq: string;
  request_id: string;
  case_id: string;
  utility: string | null;
  /** Null only on rows written before recipients were registered (their links then name the kind). */
  recipient: string | null;
  request_kind: RequestKind;
  topic: string;
  message_key: string;
  payload: Record<string, unknown> & { materials: Array<{ type: string; sha256: string; materialId: string }> };
  /** The request that wrote the row: its id goes on with the event and the audit record. */
  correlation_id: string | null;
}

export const RELAY_SOURCE = 'datarun.relay';
const BACKOFF_MS = [200, 500, 1000, 2000, 5000];

/**
 * Publishes the transfer outbox to Kafka.
 *
 * Order per property: one relay is active at a time (leader by a session-level advisory lock on
 * a connection of its own; the others wait and take over when that session ends). The leader
 * sends each batch in outbox order through one producer with one request in flight, so the events
 * of one key keep their order. It reads pending rows by state, not by an increasing-id cursor, so a
 * row whose transaction commits late is simply picked up by the next poll instead of being skipped.
 *
 * Nothing lost: a row is marked published only after the broker acknowledged its batch
 * (acks=all); until then it stays pending and is sent again after a backoff, whatever the error
 * (kafkajs marks some recoverable errors as not retriable). Nothing applied twice: a batch that was
 * acknowledged but not yet marked (crash, failover) is sent again under the same event ids, and
 * the connectors' inboxes drop the copies.
 *
 * kafkajs calls its idempotent producer experimental and it can lose messages under concurrent
 * sends: this class is the producer's only user in the relay and never has two sends in flight.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private readonly links: MaterialLinks;
  private lockClient?: pg.Client;
  private leader = false;
  private stopped = false;
  private loop?: Promise<void>;
  private readonly pause = new InterruptibleSleep();
  /** Sequence numbers sent and acknowledged whose rows are being marked. */
  private readonly marking = new Set<string>();
  private markingBatch: Promise<void> = Promise.resolve();
  readonly sendFailures: Counter;
  readonly published: Counter;
  readonly leaderGauge: Gauge;

  constructor(
    private readonly dataSource: DataSource,
    private readonly messaging: KafkaMessaging,
    private readonly audit: AuditLog,
    private readonly topics: UtilityTopics,
    private readonly cases: CaseMatters,
    private readonly pseudonyms: SubjectPseudonyms,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    metrics: Metrics,
    keys: KeyRing,
  ) {
    this.links = materialLinksOf(config, keys);
    this.sendFailures = new Counter({
      name: 'datarun_relay_send_failures_total',
      help: 'Outbox batches the broker did not acknowledge (sent again later)',
      registers: [metrics.registry],
    });
    this.published = new Counter({ name: 'datarun_relay_published_total', help: 'Utility requests published and acknowledged', registers: [metrics.registry] });
    this.leaderGauge = new Gauge({
      name: 'datarun_relay_leader',
      help: '1 while this relay instance is the active outbox publisher',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    await this.loop;
    await this.markingBatch;
    await this.lockClient?.end().catch(() => undefined);
  }

  private async run(): Promise<void> {
    let failures = 0;
    let topicsCheckedAt = 0;
    while (!this.stopped) {
      try {
        if (Date.now() - topicsCheckedAt > 5000) {
          await this.topics.ensure();
          topicsCheckedAt = Date.now();
        }
        if (!(await this.holdLeadership())) {
          await this.pause.sleep(1000);
          continue;
        }
        const sent = await this.publishBatch();
        failures = 0;
        if (sent < this.config.transfers.relayBatchSize) await this.pause.sleep(this.config.transfers.relayPollMs);
      } catch (error) {
        const wait = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
        failures += 1;
        this.logger.warn(`outbox publishing failed (attempt ${failures}, next in ${wait} ms): ${(error as Error).message}`);
        await this.pause.sleep(wait);
      }
    }
  }

  /** Takes or keeps the outbox lock; the key includes the schema so test schemas do not contend. */
  private async holdLeadership(): Promise<boolean> {
    if (this.leader && this.lockClient) return true;
    if (!this.lockClient) {
      const client = new pg.Client({ connectionString: this.config.database.url, options: `-c search_path=${this.config.database.schema}` });
      client.on('error', (error) => {
        this.logger.warn(`outbox lock connection lost: ${error.message}`);
        this.dropLeadership(client);
      });
      client.on('end', () => this.dropLeadership(client));
      await client.connect();
      this.lockClient = client;
    }
    const { rows } = await this.lockClient.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(hashtext('datarun.relay.outbox:' || current_schema())) AS locked`,
    );
    this.leader = rows[0].locked;
    this.leaderGauge.set(this.leader ? 1 : 0);
    if (this.leader) this.logger.log('this relay is now the active outbox publisher');
    return this.leader;
  }

  private dropLeadership(client: pg.Client): void {
    if (this.lockClient !== client) return;
    if (this.leader && !this.stopped) this.logger.warn('outbox leadership lost; another relay may take over');
    this.leader = false;
    this.leaderGauge.set(0);
    this.lockClient = undefined;
  }

  /** One batch: read pending rows in outbox order, send them, mark them and audit them. Returns the count. */
  private async publishBatch(): Promise<number> {
    const rows: OutboxRow[] = await this.dataSource.query(
      `SELECT seq, request_id, case_id, utility, recipient, request_kind, topic, message_key, payload, correlation_id
         FROM transfer_request
        WHERE state = 'pending' AND NOT (seq = ANY($2::bigint[])) ORDER BY seq LIMIT $1`,
      [this.config.transfers.relayBatchSize, [...this.marking]],
    );
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, Message[]>();
    const sendable: OutboxRow[] = [];
    for (const row of rows) {
      let message: Message;
      try {
        message = this.messageOf(row);
      } catch (error) {
        // A row that cannot become a valid event would block the outbox forever: refuse it on the case.
        this.logger.error(`outbox row ${row.request_id} is not a valid ${row.request_kind} request, marked rejected: ${(error as Error).message}`);
        await this.dataSource.query(`UPDATE transfer_request SET state = 'rejected', reason = $2, updated_at = now() WHERE seq = $1`, [
          row.seq,
          `datarun could not build a valid request: ${(error as Error).message}`.slice(0, 1000),
        ]);
        continue;
      }
      sendable.push(row);
      const list = byTopic.get(row.topic) ?? [];
      list.push(message);
      byTopic.set(row.topic, list);
    }
    if (sendable.length === 0) return rows.length;
    const seqs = sendable.map((r) => r.seq);
    try {
      // A matter registered since the last topic check must not hold the whole batch back.
      await this.topics.ensureNamed([...byTopic.keys()]);
      await this.messaging.publishBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    } catch (error) {
      this.sendFailures.inc();
      await this.dataSource
        .query(`UPDATE transfer_request SET last_error = $2 WHERE seq = ANY($1::bigint[]) AND state = 'pending'`, [
          seqs,
          (error as Error).message.slice(0, 500),
        ])
        .catch(() => undefined);
      throw error;
    }
    // Marking (and auditing) this batch overlaps the next batch's read and send: at most one mark
    // is in flight, and its rows are left out of the next read so they are not sent again.
    for (const seq of seqs) this.marking.add(seq);
    await this.markingBatch;
    this.markingBatch = this.markPublished(sendable).finally(() => {
      for (const seq of seqs) this.marking.delete(seq);
    });
    return rows.length;
  }

  /**
   * Marks acknowledged rows published and audits each, in one transaction. When that fails the
   * rows stay pending and are sent again later: a copy the connectors' inboxes drop, never a loss.
   */
  private async markPublished(sent: readonly OutboxRow[]): Promise<void> {
    try {
      // The audit records' purpose and subjects: each case's matter and parties, from the cases lib.
      const caseIds = [...new Set(sent.map((r) => r.case_id))];
      const [matters, parties] = await Promise.all([this.cases.matterCodesOf(caseIds), this.cases.partiesOf(caseIds)]);
      await this.dataSource.transaction(async (em) => {
        // A status may already have moved a row past 'published' (a fast utility): keep it.
        await em.query(
          // Locked in outbox order, as the status consumer locks them: no deadlock between the two.
          `WITH locked AS (SELECT seq FROM transfer_request WHERE seq = ANY($1::bigint[]) ORDER BY seq FOR UPDATE)
           UPDATE transfer_request
              SET state = CASE WHEN state = 'pending' THEN 'published' ELSE state END,
                  published_at = now(), updated_at = CASE WHEN state = 'pending' THEN now() ELSE updated_at END,
                  sends = sends + 1, last_error = NULL
            WHERE seq IN (SELECT seq FROM locked)`,
          [sent.map((r) => r.seq)],
        );
        await this.audit.appendAllWithin(
          em,
          sent.flatMap((r) => this.auditEventsOf(r, matters.get(r.case_id), parties.get(r.case_id) ?? [])),
        );
      });
      this.published.inc(sent.length);
    } catch (error) {
      this.logger.warn(`${sent.length} acknowledged requests could not be marked published; they will be sent again: ${(error as Error).message}`);
    }
  }

  private messageOf(row: OutboxRow): Message {
    const expiresAt = Math.floor(Date.now() / 1000) + this.config.transfers.materialLinkTtlSeconds;
    const data = this.links.withLinks(row.payload, row.request_id, recipientOf(row), expiresAt);
    assertEventBody(row.request_kind, data);
    const event = cloudEvent({
      id: row.request_id,
      type: EVENT_TYPES[row.request_kind],
      source: RELAY_SOURCE,
      subject: row.case_id,
      ...(row.correlation_id === null ? {} : { correlationid: row.correlation_id }),
      data,
    });
    return toKafkaMessage(event, row.message_key);
  }

  /**
   * What the publication discloses, audited for each person whose data the request carries (the
   * citizen's access log shows it): the relay acted, the recipient member is named in the reason,
   * the fields are what the request told it. A request that names no party of its case (a row
   * planned before its case's parties were known this way) is still audited, without a subject.
   */
  private auditEventsOf(row: OutboxRow, matterCode: string | undefined, parties: readonly CaseParty[]): AuditEventInput[] {
    const event: AuditEventInput = {
      memberId: RELAY_SOURCE,
      actor: 'relay',
      action: `${row.request_kind}.requested`,
      decision: 'allowed',
      object: `transfer:${row.request_id}`,
      caseId: row.case_id,
      purpose: matterCode,
      fields: disclosedFields(row.payload),
      reason: requestSentTo(recipientOf(row), row.topic),
      ...(row.correlation_id === null ? {} : { correlationId: row.correlation_id }),
    };
    const subjects = [...new Set(disclosedParties(row.payload, parties).map((p) => this.pseudonyms.of(p.idNumber)))];
    return subjects.length === 0 ? [event] : subjects.map((subjectHash) => ({ ...event, subjectHash }));
  }
}

/** The member a row goes to; a row from before recipients were registered names only its utility kind. */
function recipientOf(row: Pick<OutboxRow, 'recipient' | 'utility'>): string {
  return row.recipient ?? `utility:${row.utility}`;
}
