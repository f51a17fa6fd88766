import { AuditLog, type AuditEventInput, requestSentTo, SubjectPseudonyms } from '@datarun/audit';
import { KeyRing } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { connectionLimits, sessionLimits, SilenceSafeClient } from '@datarun/db';
import { cloudEvent, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Message } from '@datarun/messaging';
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
import { LeaseLost, RelayLease } from './relay-lease.js';

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
 * Order per property: one relay is active at a time. Leadership is the outbox lease (`RelayLease`,
 * docs/operations.md "Relay leadership and the lease"): an epoch and an expiry in the database,
 * taken when expired, renewed every third of RELAY_LEASE_SECONDS on a connection of the relay's
 * own, and checked before every send and, as a fence, in the transaction that marks rows
 * published. A relay that finds its lease taken over or expired (it was paused, its connection
 * died, it stopped making progress) stops publishing at once and competes again; what it sent but
 * could not mark is sent again by the new leader. The relay holding the session advisory lock on
 * that same connection takes an expired lease first: the lock queues the standbys. Another relay
 * takes it once it has been expired for one more lease, since the lock's session can outlive its
 * relay (a paused process, a connection silent on one side only). The lock elects a candidate;
 * the lease alone decides who may send and mark.
 *
 * The leader sends each batch in outbox order through one producer with one request in flight, so
 * the events of one key keep their order. It reads pending rows by state, not by an increasing-id
 * cursor, so a row whose transaction commits late is simply picked up by the next poll instead of
 * being skipped. A deposed relay that was paused between its last check and its send can still
 * put one batch on the broker after the new leader's: those events are copies, dropped by the
 * connectors' inboxes, but may arrive out of order for their keys (Kafka transactions would be
 * needed to fence the send itself).
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
  /** The relay's own connection: the advisory lock and every lease statement. */
  private leaseClient?: pg.Client;
  private locked = false;
  private readonly lease: RelayLease;
  private renewedAt = 0;
  /** A deposed relay stands aside this long, so that a standby, not the relay that just failed, becomes the candidate. */
  private competeAfter = 0;
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
    this.lease = new RelayLease(RelayLease.holderName(), config.transfers.relayLeaseSeconds);
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

  /** This instance's name in the lease row (`relay_lease.holder`) and in its logs. */
  get holder(): string {
    return this.lease.holder;
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.pause.wake();
    await this.loop;
    await this.markingBatch;
    // Released rather than left to expire: a standby takes over at once.
    if (this.leader && this.leaseClient) await this.lease.release(this.leaseClient).catch(() => undefined);
    await this.leaseClient?.end().catch(() => undefined);
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
        if (error instanceof LeaseLost) {
          this.depose(error.message);
          continue;
        }
        const wait = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
        failures += 1;
        this.logger.warn(`outbox publishing failed (attempt ${failures}, next in ${wait} ms): ${(error as Error).message}`);
        await this.pause.sleep(wait);
      }
    }
  }

  /**
   * Keeps the lease (renewed every third of its length) or tries to become the leader: the
   * advisory lock first (its key includes the schema, so test schemas do not contend), then the
   * lease once the last holder's has expired.
   */
  private async holdLeadership(): Promise<boolean> {
    if (this.leader && this.leaseClient) {
      if (Date.now() - this.renewedAt >= (this.config.transfers.relayLeaseSeconds * 1000) / 3) await this.renewLease();
      return true;
    }
    if (Date.now() < this.competeAfter) return false;
    const client = this.leaseClient ?? (await this.connectLeaseClient());
    if (!this.locked) {
      const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext('datarun.relay.outbox:' || current_schema())) AS locked`);
      this.locked = rows[0].locked;
    }
    // The lock holder is the candidate, and takes the lease once it has expired. Without the lock,
    // a relay takes it only once it has been expired for one more lease: the lock's session can
    // outlive its relay (a paused process whose kernel still answers keepalives, a connection
    // silent on our side but open on the server's), and a standby must not wait on it for ever.
    const startedAt = Date.now();
    const epoch = await this.lease.take(client, this.locked ? 0 : this.config.transfers.relayLeaseSeconds);
    if (epoch === undefined) return false; // the last holder's lease has not expired (long enough) yet
    this.renewedAt = startedAt;
    this.leader = true;
    this.leaderGauge.set(1);
    this.logger.log(
      `this relay is now the active outbox publisher (lease epoch ${epoch}, holder ${this.lease.holder}` +
        (this.locked ? ')' : `; without the advisory lock, whose session outlived a holder that stopped renewing)`),
    );
    return true;
  }

  /**
   * Extends the lease, or throws LeaseLost when it was taken over or had expired. A renewal that
   * fails (a timeout, a broken connection) once the lease may have run out is given up as lost
   * too: the relay stops and says so instead of reporting itself leader while a standby takes over.
   */
  private async renewLease(): Promise<void> {
    const startedAt = Date.now();
    let renewed: boolean;
    try {
      renewed = this.leaseClient !== undefined && (await this.lease.renew(this.leaseClient));
    } catch (error) {
      if (startedAt - this.renewedAt < this.config.transfers.relayLeaseSeconds * 1000) throw error;
      throw new LeaseLost(`the outbox lease could not be renewed for ${this.config.transfers.relayLeaseSeconds} s: ${(error as Error).message}`);
    }
    if (!renewed) throw new LeaseLost('the outbox lease was taken over or had expired before it could be renewed');
    this.renewedAt = startedAt;
  }

  private async connectLeaseClient(): Promise<pg.Client> {
    const db = this.config.database;
    // The pools' limits (keepalive, statement, lock and query timeouts) hold here too: a lease
    // statement that hangs on a dead socket must fail, so that the relay stops and gives way.
    const client = new SilenceSafeClient({
      connectionString: db.url,
      ...connectionLimits(db, 'app'),
      options: `-c search_path=${db.schema}${sessionLimits(db, 'app')}`,
      application_name: 'datarun-relay-lease',
    });
    client.on('error', (error) => {
      this.logger.warn(`outbox lease connection lost: ${error.message}`);
      this.dropConnection(client);
    });
    client.on('end', () => this.dropConnection(client));
    await client.connect();
    this.leaseClient = client;
    return client;
  }

  /**
   * Stops publishing at once: deposed (the lease was taken over or expired). The connection goes
   * too, so the advisory lock is free for a standby; this relay competes again after one lease.
   */
  private depose(reason: string): void {
    if (this.leader) {
      this.logger.warn(`outbox leadership lost, publishing stopped: ${reason}; competing for the lease again in ${this.config.transfers.relayLeaseSeconds} s`);
      this.competeAfter = Date.now() + this.config.transfers.relayLeaseSeconds * 1000;
    }
    const client = this.leaseClient;
    this.dropConnection(client);
    client?.end().catch(() => undefined);
  }

  private dropConnection(client: pg.Client | undefined): void {
    if (client === undefined || this.leaseClient !== client) return;
    if (this.leader && !this.stopped) this.logger.warn('outbox lease connection ended: publishing stopped until the lease is taken again');
    this.leader = false;
    this.locked = false;
    this.lease.forget();
    this.leaderGauge.set(0);
    this.leaseClient = undefined;
  }

  /** One batch: read pending rows in outbox order, send them, mark them and audit them. Returns the count. */
  private async publishBatch(): Promise<number> {
    // The batch is read, sent and marked under this one epoch.
    const epoch = this.lease.epoch;
    if (epoch === undefined) throw new LeaseLost('this relay holds no lease');
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
      // Still the leader, now: a process paused since it read the batch must not send it.
      await this.renewLease();
      if (this.lease.epoch !== epoch) throw new LeaseLost(`the outbox lease moved from epoch ${epoch} while the batch was read`);
      await this.messaging.publishBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
    } catch (error) {
      if (error instanceof LeaseLost) throw error;
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
    this.markingBatch = this.markPublished(sendable, epoch).finally(() => {
      for (const seq of seqs) this.marking.delete(seq);
    });
    return rows.length;
  }

  /**
   * Marks acknowledged rows published and audits each, in one transaction fenced by the lease's
   * `epoch`. When that fails the rows stay pending and are sent again later, by this relay or the
   * one that took the lease over: a copy the connectors' inboxes drop, never a loss.
   */
  private async markPublished(sent: readonly OutboxRow[], epoch: string): Promise<void> {
    try {
      // The audit records' purpose and subjects: each case's matter and parties, from the cases lib.
      const caseIds = [...new Set(sent.map((r) => r.case_id))];
      const [matters, parties] = await Promise.all([this.cases.matterCodesOf(caseIds), this.cases.partiesOf(caseIds)]);
      await this.dataSource.transaction(async (em) => {
        await this.lease.fence(em, epoch);
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
      if (error instanceof LeaseLost) {
        this.logger.warn(`${sent.length} acknowledged requests not marked published: ${error.message}; the next leader sends them again`);
        this.depose(error.message);
        return;
      }
      this.logger.warn(`${sent.length} acknowledged requests could not be marked published; they will be sent again: ${(error as Error).message}`);
    }
  }

  private messageOf(row: OutboxRow): Message {
    const expiresAt = Math.floor(Date.now() / 1000) + this.config.transfers.materialLinkTtlSeconds;
    const data = this.links.withLinks(row.payload, row.request_id, recipientOf(row), expiresAt, row.seq);
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
