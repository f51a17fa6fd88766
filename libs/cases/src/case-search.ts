import { AuditLog, SubjectPseudonyms } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { exactTimeSql, parseTimeIdCursor, timeIdCursor } from '@datarun/db';
import { checkIdNumber, maskIdNumber } from '@datarun/identity';
import { Problem } from '@datarun/problems';
import { MATTER_CODE, RegistryNames } from '@datarun/registry';
import { CaseTransfers } from '@datarun/transfers';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type ApprovalView, CaseApprovals } from './case-approvals.service.js';
import { queryTime } from './query-time.js';
import { CASE_STATES, type CaseParty, type CaseState, type DeferredMaterial, deferredOf, partyHashesOf } from './case.entity.js';

export const CASE_PAGE = { default: 50, max: 500 } as const;
/** A citizen's cases, newest first: more than anyone has (paging comes with the lifecycle work). */
const MY_CASES_MAX = 200;
const BACKFILL_BATCH = 500;

export interface CaseQuery {
  readonly state?: string;
  readonly matter?: string;
  /** A party's ID number: matched through the parties' keyed hashes. */
  readonly party?: string;
  readonly overdue?: string;
  readonly from?: string;
  readonly to?: string;
  readonly cursor?: string;
  readonly limit?: number;
}

/** A case as a hall's list shows it. */
export interface CaseSummary {
  id: string;
  matter: string;
  state: CaseState;
  parties: CaseParty[];
  /** An approval pending past its due time, or a deferred material not uploaded by its due time. */
  overdue: boolean;
  openedBy: string;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

/** A case as a citizen who is one of its parties sees it: its progress, every ID number masked. */
export interface CitizenCaseView {
  id: string;
  matter: string;
  state: CaseState;
  hall: { id: string; name: string };
  parties: Array<{ name: string; role: string; idNumberMasked: string }>;
  approvals: ApprovalView[];
  deferred: Array<DeferredMaterial & { uploaded: boolean; overdue: boolean }>;
  /** Every unit the completed case notified, and how far it is. */
  recipients: Array<{ id: string | null; name: string; request: string; benefit?: string; state: string; updatedAt: string }>;
  createdAt: string;
  closedAt?: string;
  rejectionReason?: string;
}

interface CaseRow {
  id: string;
  consumer_id: string;
  matter_code: string;
  state: CaseState;
  parties: CaseParty[];
  deferred: DeferredMaterial[];
  uploaded: string[];
  overdue: boolean;
  opened_by: string;
  created_at: Date;
  created_exact: string;
  updated_at: Date;
  closed_at: Date | null;
  rejection_reason: string | null;
}

/** An active case that is late: an approval pending past due, or a deferred material not uploaded by its due time. */
const OVERDUE_SQL = `(c.state IN ('open', 'approving') AND (
    EXISTS (SELECT 1 FROM case_approval a WHERE a.case_id = c.id AND a.state = 'pending' AND a.due_at < now())
    OR EXISTS (SELECT 1 FROM jsonb_array_elements(c.deferred) d
                WHERE (d->>'dueAt')::timestamptz < now()
                  AND NOT EXISTS (SELECT 1 FROM case_material m WHERE m.case_id = c.id AND m.type = d->>'type'))))`;
const CASE_COLUMNS = `c.id, c.consumer_id, c.matter_code, c.state, c.parties, c.deferred, c.opened_by, c.created_at, c.updated_at, c.closed_at,
    c.rejection_reason, ${exactTimeSql('c.created_at')} AS created_exact, ${OVERDUE_SQL} AS overdue,
    ARRAY(SELECT m.type FROM case_material m WHERE m.case_id = c.id) AS uploaded`;

/**
 * Finding cases. A hall lists its own cases newest first, by state, matter, party, lateness and
 * date; a party is matched by the keyed hash of its ID number (the audit log's pseudonym), which
 * the case row keeps, never by the clear number, and each such search is audited against that
 * subject. A citizen sees the cases where they are a party, across halls, with every approval and
 * recipient's progress.
 */
@Injectable()
export class CaseSearch implements OnApplicationBootstrap {
  private readonly logger = new Logger('CaseSearch');

  constructor(
    private readonly dataSource: DataSource,
    private readonly pseudonyms: SubjectPseudonyms,
    private readonly audit: AuditLog,
    private readonly approvals: CaseApprovals,
    private readonly transfers: CaseTransfers,
    private readonly names: RegistryNames,
  ) {}

  /** Cases opened before parties were hashed get their hashes (the key is the app's, not the database's). */
  async onApplicationBootstrap(): Promise<void> {
    try {
      let filled = 0;
      for (;;) {
        const rows = await this.dataSource.query<Array<{ id: string; parties: CaseParty[] }>>(
          'SELECT id, parties FROM service_case WHERE party_hashes IS NULL LIMIT $1',
          [BACKFILL_BATCH],
        );
        for (const r of rows) {
          await this.dataSource.query('UPDATE service_case SET party_hashes = $2 WHERE id = $1 AND party_hashes IS NULL', [
            r.id,
            partyHashesOf(r.parties, (idNumber) => this.pseudonyms.of(idNumber)),
          ]);
        }
        filled += rows.length;
        if (rows.length < BACKFILL_BATCH) break;
      }
      if (filled > 0) this.logger.log(`hashed the parties of ${filled} case(s) opened before cases could be found by party`);
    } catch (error) {
      this.logger.error(`cannot hash the parties of older cases (searching by party misses them): ${(error as Error).message}`);
    }
  }

  async list(caller: Caller, query: CaseQuery): Promise<{ items: CaseSummary[]; next?: string }> {
    requireRole(caller, 'consumer');
    if (query.state !== undefined && !CASE_STATES.includes(query.state as CaseState)) {
      throw new Problem('VALIDATION_FAILED', `state must be one of ${CASE_STATES.join(', ')}`);
    }
    if (query.matter !== undefined && !MATTER_CODE.test(query.matter)) throw new Problem('VALIDATION_FAILED', `matter must match ${MATTER_CODE.source}`);
    if (query.overdue !== undefined && query.overdue !== 'true' && query.overdue !== 'false')
      throw new Problem('VALIDATION_FAILED', 'overdue must be true or false');
    const from = queryTime('from', query.from)?.toISOString() ?? null;
    const to = queryTime('to', query.to)?.toISOString() ?? null;
    const limit = query.limit ?? CASE_PAGE.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > CASE_PAGE.max) {
      throw new Problem('VALIDATION_FAILED', `limit must be a whole number from 1 to ${CASE_PAGE.max}`);
    }
    const after = query.cursor === undefined ? undefined : parseTimeIdCursor(query.cursor);
    const subject = query.party === undefined ? undefined : this.pseudonyms.of(checkIdNumber(query.party));
    const rows = await this.dataSource.query<CaseRow[]>(
      `SELECT ${CASE_COLUMNS} FROM service_case c
        WHERE c.consumer_id = $1
          AND ($2::text IS NULL OR c.state = $2)
          AND ($3::text IS NULL OR c.matter_code = $3)
          AND ($4::text IS NULL OR c.party_hashes @> ARRAY[$4::text])
          AND ($5::boolean IS NULL OR ${OVERDUE_SQL} = $5)
          AND ($6::timestamptz IS NULL OR c.created_at >= $6)
          AND ($7::timestamptz IS NULL OR c.created_at < $7)
          AND ($8::timestamptz IS NULL OR (c.created_at, c.id) < ($8::timestamptz, $9::uuid))
        ORDER BY c.created_at DESC, c.id DESC LIMIT $10`,
      [
        caller.memberId,
        query.state ?? null,
        query.matter ?? null,
        subject ?? null,
        query.overdue === undefined ? null : query.overdue === 'true',
        from,
        to,
        after?.at ?? null,
        after?.id ?? null,
        limit + 1,
      ],
    );
    if (subject !== undefined) {
      // Which cases a person is part of is personal data: the search is on the record, against them.
      await this.audit.append({
        memberId: caller.memberId,
        actor: caller.actor,
        action: 'case.searched',
        decision: 'allowed',
        subjectHash: subject,
        reason: `${Math.min(rows.length, limit)} case(s) found by party`,
      });
    }
    const items = rows.slice(0, limit).map(summaryOf);
    return rows.length > limit ? { items, next: timeIdCursor(rows[limit - 1].created_exact, rows[limit - 1].id) } : { items };
  }

  /** The cases where the calling citizen is a party, newest first, with their progress. */
  async mine(caller: Caller): Promise<{ items: CitizenCaseView[] }> {
    requireRole(caller, 'citizen');
    const subject = this.pseudonyms.of(checkIdNumber(caller.actor));
    const rows = await this.dataSource.query<CaseRow[]>(
      `SELECT ${CASE_COLUMNS} FROM service_case c WHERE c.party_hashes @> ARRAY[$1::text] ORDER BY c.created_at DESC, c.id DESC LIMIT $2`,
      [subject, MY_CASES_MAX],
    );
    const progress = await Promise.all(rows.map((r) => Promise.all([this.approvals.ofCase(r.id), this.transfers.ofCase(r.id)])));
    // Every hall's and recipient's name in one query, not one per case.
    const members = new Set(rows.map((r) => r.consumer_id));
    for (const [, transfers] of progress) for (const t of transfers) if (t.recipient) members.add(t.recipient);
    const names = await this.names.membersNamed([...members]);
    const items = rows.map((r, i): CitizenCaseView => {
      const [approvals, transfers] = progress[i];
      return {
        id: r.id,
        matter: r.matter_code,
        state: r.state,
        hall: { id: r.consumer_id, name: names.get(r.consumer_id) ?? r.consumer_id },
        parties: r.parties.map((p) => ({ name: p.name, role: p.role, idNumberMasked: maskIdNumber(p.idNumber) })),
        approvals,
        deferred: deferredOf(r.deferred, new Set(r.uploaded)),
        recipients: transfers.map((t) => ({
          id: t.recipient,
          name: (t.recipient && names.get(t.recipient)) ?? t.recipient ?? t.utility ?? 'unknown',
          request: t.request,
          ...(t.benefit ? { benefit: t.benefit } : {}),
          state: t.state,
          updatedAt: t.updatedAt.toISOString(),
        })),
        createdAt: r.created_at.toISOString(),
        ...(r.closed_at ? { closedAt: r.closed_at.toISOString() } : {}),
        ...(r.rejection_reason ? { rejectionReason: r.rejection_reason } : {}),
      };
    });
    return { items };
  }
}

function summaryOf(r: CaseRow): CaseSummary {
  return {
    id: r.id,
    matter: r.matter_code,
    state: r.state,
    parties: r.parties,
    overdue: r.overdue,
    openedBy: r.opened_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    ...(r.closed_at ? { closedAt: r.closed_at.toISOString() } : {}),
  };
}
