import { type AuditEventInput, AuditLog } from '@datarun/audit';
import { correlationIdOfMessage, fromKafkaMessage, KafkaMessaging, MalformedEvent } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { MemberKeyDirectory } from '@datarun/registry';
import { RequestContext } from '@datarun/request-context';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { KafkaMessage } from 'kafkajs';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { headerText, type OriginalMessage } from '../dead-letters.js';
import { type TransferStatus, transferStatusOf } from '../events.js';
import { DeadLetterSeal } from '../ops/dead-letter-seal.js';
import { CaseMatters } from '../outbox/case-matters.js';
import { MAX_CLOCK_SKEW_MS, SIGNATURE_HEADER, verifyEventSignature } from '../signed-event.js';
import { DEAD_LETTER_TOPIC, STATUS_TOPIC } from '../topics.js';
import { UtilityRecipients } from '../utility-recipients.js';
import { UtilityTopics } from './utility-topics.js';

export const RELAY_STATUS_GROUP = 'datarun-relay-status';
const RANK = `CASE state WHEN 'pending' THEN 0 WHEN 'published' THEN 1 WHEN 'accepted' THEN 2 ELSE 3 END`;
const RANK_OF: Record<string, number> = { accepted: 2, completed: 3, rejected: 3 };

/** The dead-letter reason of a status not signed by its request's recipient (docs/api.md). */
export const STATUS_SIGNATURE_INVALID = 'STATUS_SIGNATURE_INVALID';

/** A status that may not change anything: malformed, or not signed by the recipient of its request's kind. */
class RefusedStatus extends Error {
  override name = 'RefusedStatus';
}

/**
 * Status back to the case: consumes `datarun.utility.transfer-status.v1` and moves each request
 * forward (never back: a late `accepted` after `completed` changes nothing). Each status consumed
 * is audited in the same transaction as the change it makes, under the member that signed it.
 *
 * Nothing unsigned changes state (docs/security.md): a status must carry `datarun-signature`, a
 * detached JWS over its body by a registered key of the member that receives its utility kind's
 * requests (UtilityRecipients), bound to this topic, that member as `ce_source` and the request id
 * as key. Anyone else's status — unsigned, signed by another member, or moved from another topic or
 * request — is dead-lettered with `STATUS_SIGNATURE_INVALID` and changes nothing. A status that is
 * malformed or names no known request of that kind is dead-lettered with the reason too, and the
 * consumer carries on.
 */
@Injectable()
export class StatusConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger('StatusConsumer');
  readonly applied: Counter;
  readonly deadLettered: Counter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly messaging: KafkaMessaging,
    private readonly audit: AuditLog,
    private readonly topics: UtilityTopics,
    private readonly cases: CaseMatters,
    private readonly recipients: UtilityRecipients,
    private readonly keys: MemberKeyDirectory,
    private readonly seal: DeadLetterSeal,
    metrics: Metrics,
  ) {
    this.applied = new Counter({
      name: 'datarun_relay_statuses_total',
      help: 'Utility statuses consumed, by whether they moved the request',
      labelNames: ['effect'] as const,
      registers: [metrics.registry],
    });
    this.deadLettered = new Counter({ name: 'datarun_relay_status_dead_letters_total', help: 'Statuses dead-lettered', registers: [metrics.registry] });
  }

  onApplicationBootstrap(): Promise<void> {
    return this.messaging.keepStarting(`consuming ${STATUS_TOPIC}`, async () => {
      await this.topics.ensure();
      await this.messaging.consumeBatches({ groupId: RELAY_STATUS_GROUP, topics: [STATUS_TOPIC], onBatch: (b) => this.handleBatch(b) });
    });
  }

  /**
   * One fetched batch of a partition: each status moves its request in order, and all of them are
   * audited, in one transaction (one commit, one audit chain lock per batch rather than per
   * status, which is what kept statuses behind under load).
   */
  async handleBatch({ topic, partition, messages }: { topic: string; partition: number; messages: KafkaMessage[] }): Promise<void> {
    // A batch holds many requests' statuses: each keeps its own correlation id (the request's,
    // carried back by the bridge) for its audit record, rather than one context for the batch.
    const valid: Array<{ status: TransferStatus; source: string; signedAt: Date; correlationId: string; message: KafkaMessage }> = [];
    for (const message of messages) {
      try {
        const status = await this.signedStatusOf(topic, message);
        valid.push({ ...status, correlationId: correlationIdOfMessage(message), message });
      } catch (error) {
        if (!(error instanceof MalformedEvent) && !(error instanceof RefusedStatus)) throw error;
        await this.reject({ topic, key: message.key, value: message.value, headers: message.headers }, error.message, partition, message.offset);
      }
    }
    if (valid.length === 0) return;
    const outcomes = await this.dataSource.transaction(async (em) => {
      type Found = { status: TransferStatus; source: string; correlationId: string; caseId: string; moved: boolean; resentAt?: Date };
      const applied: Array<Found | undefined> = [];
      // All rows first, in outbox order, as the relay's marking locks them: no deadlock between the two.
      await em.query('SELECT seq FROM transfer_request WHERE request_id = ANY($1::uuid[]) ORDER BY seq FOR UPDATE', [valid.map((v) => v.status.requestId)]);
      for (const { status, source, signedAt, correlationId } of valid) {
        // A status signed well before the request was re-sent answers the earlier send: replayed, it
        // would undo the resend (clocks may differ by MAX_CLOCK_SKEW_MS, so only older than that).
        const found: Array<{ case_id: string; moved: boolean; resent_at: Date | null; stale: boolean }> = await em.query(
          `WITH target AS (SELECT seq, case_id, resent_at, coalesce($7::timestamptz < resent_at - make_interval(secs => $8), false) AS stale,
                                  (${RANK}) < $2 AS forward
                             FROM transfer_request WHERE request_id = $1 AND utility = $6 FOR UPDATE),
                moved AS (UPDATE transfer_request SET state = $3, reference = coalesce($4, reference), reason = $5, updated_at = now(),
                                  -- A status proves the broker carried the request, even when its send looked failed.
                                  published_at = coalesce(published_at, now()), last_error = NULL
                           WHERE seq = (SELECT seq FROM target WHERE forward AND NOT stale) RETURNING 1)
           SELECT case_id, resent_at, stale, (SELECT count(*) FROM moved) > 0 AS moved FROM target`,
          [
            status.requestId,
            RANK_OF[status.state],
            status.state,
            status.reference ?? null,
            status.state === 'rejected' ? (status.reason ?? null) : null,
            status.utility,
            signedAt,
            MAX_CLOCK_SKEW_MS / 1000,
          ],
        );
        const row = found[0];
        applied.push(
          row && { status, source, correlationId, caseId: row.case_id, moved: row.moved, ...(row.stale && row.resent_at ? { resentAt: row.resent_at } : {}) },
        );
      }
      // The audit records' purpose: each case's matter, from the cases lib, in this transaction.
      // A stale status is dead-lettered below, not audited as consumed.
      const known = applied.filter((a) => a !== undefined && a.resentAt === undefined) as Found[];
      const matters = known.length ? await this.cases.matterCodesOf([...new Set(known.map((a) => a.caseId))], em) : new Map<string, string>();
      const events: AuditEventInput[] = known.map(({ status, source, correlationId, caseId, moved }) => ({
        memberId: source,
        actor: `utility:${status.utility}`,
        action: 'transfer.status',
        decision: 'allowed',
        object: `transfer:${status.requestId}`,
        caseId,
        purpose: matters.get(caseId),
        reason: `${status.state}${status.reference ? ` ${status.reference}` : ''}${status.reason ? `: ${status.reason}` : ''}${moved ? '' : ' (no change)'}`,
        correlationId,
      }));
      await this.audit.appendAllWithin(em, events);
      return applied.map((a) => (a?.resentAt ? { resentAt: a.resentAt } : a?.moved));
    });
    for (const [i, moved] of outcomes.entries()) {
      const { status, signedAt, message } = valid[i];
      if (typeof moved === 'object') {
        await this.reject(
          { topic, key: message.key, value: message.value, headers: message.headers },
          `${STATUS_SIGNATURE_INVALID}: signed at ${signedAt.toISOString()}, before request ${status.requestId} was sent again at ${moved.resentAt.toISOString()}: an old status does not answer the new send`,
          partition,
          message.offset,
        );
      } else if (moved === undefined) {
        await this.reject(
          { topic, key: message.key, value: message.value, headers: message.headers },
          `status for unknown request ${status.requestId} of ${status.utility}`,
          partition,
          message.offset,
        );
      } else this.applied.inc({ effect: moved ? 'moved' : 'unchanged' });
    }
  }

  /**
   * The status of a message, with the member that signed it; throws MalformedEvent or
   * RefusedStatus (STATUS_SIGNATURE_INVALID) for one that may change nothing.
   */
  private async signedStatusOf(topic: string, message: KafkaMessage): Promise<{ status: TransferStatus; source: string; signedAt: Date }> {
    const event = fromKafkaMessage(message);
    const status = transferStatusOf(event);
    const refuse = (detail: string) => new RefusedStatus(`${STATUS_SIGNATURE_INVALID}: ${detail}`);
    const recipient = this.recipients.memberOf(status.utility ?? '');
    if (recipient === undefined) throw refuse(`no member receives ${JSON.stringify(status.utility)} requests (UTILITY_RECIPIENTS)`);
    if (event.source !== recipient) {
      throw refuse(`ce_source ${JSON.stringify(event.source.slice(0, 128))} is not ${JSON.stringify(recipient)}, the recipient of ${status.utility} requests`);
    }
    const key = message.key?.toString('utf8') ?? '';
    const check = await verifyEventSignature(
      message.value ?? Buffer.alloc(0),
      headerText(message.headers, SIGNATURE_HEADER),
      { topic, source: recipient, subject: key },
      this.keys,
    );
    if (!check.ok) throw refuse(check.reason);
    return { status, source: recipient, signedAt: check.signedAt };
  }

  /** Dead-letters one status (sealed by datarun), its log line under the status's own correlation id. */
  private reject(original: OriginalMessage, reason: string, partition: number, offset: string): Promise<void> {
    return RequestContext.run(correlationIdOfMessage(original), async () => {
      this.logger.warn(`dead-lettering ${original.topic}[${partition}]@${offset}: ${reason}`);
      await this.messaging.publish(DEAD_LETTER_TOPIC, [await this.seal.letter(original, reason, 'relay')]);
      this.deadLettered.inc();
    });
  }
}
