import { type AuditEventInput, AuditLog } from '@datarun/audit';
import { RecipientDirectory } from '@datarun/registry';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TransferStatus } from '../events.js';
import { CaseMatters } from '../outbox/case-matters.js';
import { MAX_CLOCK_SKEW_MS } from '../signed-event.js';

const RANK = `CASE state WHEN 'pending' THEN 0 WHEN 'published' THEN 1 WHEN 'accepted' THEN 2 ELSE 3 END`;
const RANK_OF: Record<string, number> = { accepted: 2, completed: 3, rejected: 3, superseded: 3 };

/** Who a request answers to: the member that must sign (or post) its statuses, and the utility kind it was for. */
export interface RequestAddressee {
  readonly recipient: string;
  readonly utility: string | null;
}

/** A status whose sender has been established: the member that signed it (Kafka) or posted it under its token (HTTP). */
export interface EstablishedStatus {
  readonly status: TransferStatus;
  /** The recipient member the status comes from. */
  readonly source: string;
  /** Who acted, for the audit record: the connector, or the person or system behind the token. */
  readonly actor: string;
  /** When its sender signed it; a status from before the request was re-sent answers the earlier send. */
  readonly signedAt: Date;
  readonly correlationId?: string;
}

/** `moved`: the request went forward; `unchanged`: it was already there or beyond; `stale`: signed before a resend; `unknown`: no such request of that member. */
export type StatusEffect = { readonly effect: 'moved' | 'unchanged' | 'unknown' } | { readonly effect: 'stale'; readonly resentAt: Date };

/**
 * The one way a recipient's status moves its request, whether it came signed over Kafka (the relay's
 * StatusConsumer) or under the recipient's token over HTTP (POST /v1/requests/{id}/status): forward
 * only (a late `accepted` after `completed` changes nothing), only by the request's recipient, never
 * by a status signed before the request was re-sent, and each status audited under the recipient
 * member in the same transaction as the change it makes.
 */
@Injectable()
export class RequestStatuses {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    private readonly cases: CaseMatters,
    private readonly recipients: RecipientDirectory,
  ) {}

  /**
   * The addressee of each known request. A request written before recipients were registered names
   * only its utility kind: the member registered for the kind now answers for it.
   */
  async addresseesOf(requestIds: readonly string[]): Promise<ReadonlyMap<string, RequestAddressee>> {
    const ids = requestIds.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
    if (ids.length === 0) return new Map();
    const rows = await this.dataSource.query<Array<{ request_id: string; recipient: string | null; utility: string | null }>>(
      'SELECT request_id, recipient, utility FROM transfer_request WHERE request_id = ANY($1::uuid[])',
      [[...new Set(ids)]],
    );
    const found = new Map<string, RequestAddressee>();
    for (const row of rows) {
      const recipient = row.recipient ?? (row.utility === null ? undefined : (await this.recipients.resolve(row.utility))?.memberId);
      if (recipient !== undefined) found.set(row.request_id, { recipient, utility: row.utility });
    }
    return found;
  }

  /** Applies established statuses in order, in one transaction with their audit records; the effect of each. */
  async apply(statuses: readonly EstablishedStatus[]): Promise<StatusEffect[]> {
    if (statuses.length === 0) return [];
    return this.dataSource.transaction(async (em) => {
      // All rows first, in outbox order, as the relay's marking locks them: no deadlock between the two.
      await em.query('SELECT seq FROM transfer_request WHERE request_id = ANY($1::uuid[]) ORDER BY seq FOR UPDATE', [statuses.map((s) => s.status.requestId)]);
      const effects: StatusEffect[] = [];
      const audited: Array<{ incoming: EstablishedStatus; caseId: string; moved: boolean }> = [];
      for (const incoming of statuses) {
        const { status, source, signedAt } = incoming;
        // A status signed well before the request was re-sent answers the earlier send: replayed, it
        // would undo the resend (clocks may differ by MAX_CLOCK_SKEW_MS, so only older than that).
        const [row] = await em.query<Array<{ case_id: string; moved: boolean; resent_at: Date | null; stale: boolean }>>(
          `WITH target AS (SELECT seq, case_id, resent_at, coalesce($7::timestamptz < resent_at - make_interval(secs => $8), false) AS stale,
                                  (${RANK}) < $2 AS forward
                             FROM transfer_request WHERE request_id = $1 AND coalesce(recipient, $6) = $6 FOR UPDATE),
                moved AS (UPDATE transfer_request SET state = $3, reference = coalesce($4, reference), reason = $5, updated_at = now(),
                                  -- A status proves the request reached its recipient, even when its send looked failed.
                                  published_at = coalesce(published_at, now()), last_error = NULL
                           WHERE seq = (SELECT seq FROM target WHERE forward AND NOT stale) RETURNING 1)
           SELECT case_id, resent_at, stale, (SELECT count(*) FROM moved) > 0 AS moved FROM target`,
          [
            status.requestId,
            RANK_OF[status.state],
            status.state,
            status.reference ?? null,
            status.state === 'rejected' || status.state === 'superseded' ? (status.reason ?? null) : null,
            source,
            signedAt,
            MAX_CLOCK_SKEW_MS / 1000,
          ],
        );
        if (!row) effects.push({ effect: 'unknown' });
        else if (row.stale && row.resent_at) effects.push({ effect: 'stale', resentAt: row.resent_at });
        else {
          effects.push({ effect: row.moved ? 'moved' : 'unchanged' });
          audited.push({ incoming, caseId: row.case_id, moved: row.moved });
        }
      }
      // The audit records' purpose: each case's matter, from the cases lib, in this transaction.
      const matters = audited.length ? await this.cases.matterCodesOf([...new Set(audited.map((a) => a.caseId))], em) : new Map<string, string>();
      const events: AuditEventInput[] = audited.map(({ incoming: { status, source, actor, correlationId }, caseId, moved }) => ({
        memberId: source,
        actor,
        action: 'transfer.status',
        decision: 'allowed',
        object: `transfer:${status.requestId}`,
        caseId,
        purpose: matters.get(caseId),
        reason: `${status.state}${status.reference ? ` ${status.reference}` : ''}${status.reason ? `: ${status.reason}` : ''}${moved ? '' : ' (no change)'}`,
        ...(correlationId === undefined ? {} : { correlationId }),
      }));
      await this.audit.appendAllWithin(em, events);
      return effects;
    });
  }
}
