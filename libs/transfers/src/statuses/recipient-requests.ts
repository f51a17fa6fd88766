import { refuseAudited, AuditLog } from '@datarun/audit';
import { type Caller, KeyRing, requireRole } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { Problem } from '@datarun/problems';
import { RequestContext } from '@datarun/request-context';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TransferStatus, UtilityState } from '../events.js';
import { type MaterialLinks, materialLinksOf } from '../material-links.js';
import type { TransferState } from '../outbox/transfer-request.entity.js';
import type { RequestKind } from '../topics.js';
import { RequestStatuses } from './request-statuses.js';

/** The states a recipient sees its requests in: sent to it, or answered (a pending request has not been sent yet). */
export const SENT_STATES: readonly TransferState[] = ['published', 'accepted', 'completed', 'rejected', 'superseded'];
export const REQUEST_PAGE = { default: 50, max: 200 } as const;

/** What a recipient's view of a request is read from (RequestRow). */
const REQUEST_COLUMNS = 'seq, request_id, case_id, request_kind, benefit, utility, state, reference, reason, payload, created_at, updated_at, published_at';

export interface RecipientRequestQuery {
  readonly state?: string;
  /** The `next` of the previous page. */
  readonly cursor?: string;
  readonly limit?: number;
}

/** One request as its recipient reads it: its progress, and the body it was sent with (material links fresh). */
export interface RecipientRequestView {
  requestId: string;
  caseId: string;
  request: RequestKind;
  benefit?: string;
  utility?: string;
  state: TransferState;
  reference?: string;
  reason?: string;
  createdAt: string;
  updatedAt: string;
  publishedAt?: string;
  data: Record<string, unknown>;
}

export interface StatusReport {
  readonly state: UtilityState;
  readonly reference?: string;
  readonly reason?: string;
}

interface RequestRow {
  seq: string;
  request_id: string;
  case_id: string;
  request_kind: RequestKind;
  benefit: string | null;
  utility: string | null;
  state: TransferState;
  reference: string | null;
  reason: string | null;
  payload: Record<string, unknown> & { materials: Array<{ type: string; sha256: string; materialId: string }> };
  created_at: Date;
  updated_at: Date;
  published_at: Date | null;
}

/**
 * A recipient's side of its requests over HTTP, for a partner that cannot run Kafka (webhook
 * recipients) or wants to catch up: the pull (GET /v1/requests) and the answer (POST
 * /v1/requests/{id}/status), which follows the same rules as a signed status on Kafka
 * (RequestStatuses). A request is visible to its recipient only, and only once it was sent: the
 * relay audited that disclosure when it published it.
 */
@Injectable()
export class RecipientRequests {
  private readonly links: MaterialLinks;

  constructor(
    private readonly dataSource: DataSource,
    private readonly statuses: RequestStatuses,
    private readonly audit: AuditLog,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
    keys: KeyRing,
  ) {
    this.links = materialLinksOf(config, keys);
  }

  /** The caller's requests in outbox order, a page at a time; the cursor is the last one's position. */
  async list(caller: Caller, query: RecipientRequestQuery): Promise<{ items: RecipientRequestView[]; next?: string }> {
    requireRole(caller, 'utility', 'department');
    if (query.state !== undefined && !SENT_STATES.includes(query.state as TransferState)) {
      throw new Problem('VALIDATION_FAILED', `state must be one of ${SENT_STATES.join(', ')}`);
    }
    if (query.cursor !== undefined && !/^[1-9][0-9]{0,18}$/.test(query.cursor))
      throw new Problem('VALIDATION_FAILED', 'cursor must be the next value of a previous page');
    const limit = query.limit ?? REQUEST_PAGE.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > REQUEST_PAGE.max) {
      throw new Problem('VALIDATION_FAILED', `limit must be a whole number from 1 to ${REQUEST_PAGE.max}`);
    }
    const rows = await this.dataSource.query<RequestRow[]>(
      `SELECT ${REQUEST_COLUMNS}
         FROM transfer_request
        WHERE recipient = $1 AND state = ANY($2::text[]) AND seq > $3::bigint
        ORDER BY seq LIMIT $4`,
      [caller.memberId, query.state ? [query.state] : SENT_STATES, query.cursor ?? '0', limit + 1],
    );
    const expiresAt = this.linksExpireAt();
    const items = rows.slice(0, limit).map((r) => this.view(r, caller.memberId, expiresAt));
    return rows.length > limit ? { items, next: rows[limit - 1].seq } : { items };
  }

  /**
   * One request addressed to the caller, with fresh material links: what a connector asks for when
   * the links of a request it received expired while it waited in Kafka (a stopped connector, a
   * long backlog). Any state: the connector may ask before the relay has marked the request it
   * just received published (or a resend of it), and the relay audits that disclosure when it
   * does. Another member's request, or none, is TRANSFER_NOT_FOUND, the same answer either way, and
   * recorded as a denied attempt.
   */
  async one(caller: Caller, requestId: string): Promise<RecipientRequestView> {
    requireRole(caller, 'utility', 'department');
    await this.requireAddressee(caller, requestId, 'transfer.read');
    return this.viewOf(requestId, caller.memberId);
  }

  /**
   * The recipient's answer to one of its requests: moves it forward like a signed status on Kafka,
   * audited under the caller. Another member's request, or none, is TRANSFER_NOT_FOUND (the same
   * answer either way) and recorded as a denied attempt.
   */
  async reportStatus(caller: Caller, requestId: string, report: StatusReport): Promise<RecipientRequestView> {
    requireRole(caller, 'utility', 'department');
    await this.requireAddressee(caller, requestId, 'transfer.status');
    const status: TransferStatus = {
      requestId,
      recipient: caller.memberId,
      state: report.state,
      ...(report.reference ? { reference: report.reference } : {}),
      ...(report.reason ? { reason: report.reason } : {}),
    };
    const correlationId = RequestContext.correlationId();
    const [outcome] = await this.statuses.apply([
      { status, source: caller.memberId, actor: caller.actor, signedAt: new Date(), ...(correlationId === undefined ? {} : { correlationId }) },
    ]);
    if (outcome.effect === 'unknown') throw new Problem('TRANSFER_NOT_FOUND', `no request ${requestId} addressed to ${caller.memberId}`);
    return this.viewOf(requestId, caller.memberId);
  }

  /**
   * Goes on only for the request's own recipient (a request from before recipients were
   * registered answers to its utility kind's member, RequestStatuses.addresseesOf); another
   * member's request, or none, is TRANSFER_NOT_FOUND, the same answer either way, recorded as a
   * denied `action`.
   */
  private async requireAddressee(caller: Caller, requestId: string, action: string): Promise<void> {
    const addressee = (await this.statuses.addresseesOf([requestId])).get(requestId);
    if (addressee?.recipient === caller.memberId) return;
    await refuseAudited(
      this.audit,
      { caller, action, object: `transfer:${requestId}`, scope: 'any' },
      new Problem('TRANSFER_NOT_FOUND', `no request ${requestId} addressed to ${caller.memberId}`),
    );
  }

  /** One request as its recipient sees it, its material links issued now. */
  private async viewOf(requestId: string, recipient: string): Promise<RecipientRequestView> {
    const [row] = await this.dataSource.query<RequestRow[]>(`SELECT ${REQUEST_COLUMNS} FROM transfer_request WHERE request_id = $1`, [requestId]);
    return this.view(row, recipient, this.linksExpireAt());
  }

  /** When links issued now run out (MATERIAL_LINK_TTL_SECONDS), in seconds since the epoch. */
  private linksExpireAt(): number {
    return Math.floor(Date.now() / 1000) + this.config.transfers.materialLinkTtlSeconds;
  }

  private view(r: RequestRow, recipient: string, expiresAt: number): RecipientRequestView {
    return {
      requestId: r.request_id,
      caseId: r.case_id,
      request: r.request_kind,
      ...(r.benefit ? { benefit: r.benefit } : {}),
      ...(r.utility ? { utility: r.utility } : {}),
      state: r.state,
      ...(r.reference ? { reference: r.reference } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      ...(r.published_at ? { publishedAt: r.published_at.toISOString() } : {}),
      data: this.links.withLinks(r.payload, r.request_id, recipient, expiresAt, r.seq),
    };
  }
}
