import { checkIdNumber } from '@datarun/identity';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SubjectPseudonyms } from './subject-pseudonym.js';

export interface AuditFilter {
  readonly subject?: string;
  readonly member?: string;
  readonly actor?: string;
  readonly source?: string;
  readonly caseId?: string;
  /** The id of one request or consumed message (docs/operations.md: following one id). */
  readonly correlationId?: string;
  readonly decision?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface AuditItem {
  id: string;
  seq: number;
  at: string;
  member: string;
  actor: string;
  action: string;
  source: string | null;
  caseId: string | null;
  object: string | null;
  purpose: string | null;
  fields: string[];
  decision: string;
  reason: string | null;
  /** The request or consumed message it happened in; null for records written before one was kept. */
  correlationId: string | null;
}

/** The filters a search takes, by name. */
export const AUDIT_FILTERS = ['subject', 'member', 'actor', 'source', 'caseId', 'correlationId', 'decision', 'from', 'to'] as const satisfies ReadonlyArray<
  keyof AuditFilter
>;

/** The filter named in a set of named values (a query string's): the known names with a text value. */
export function auditFilterOf(values: Readonly<Record<string, unknown>>): AuditFilter {
  return Object.fromEntries(AUDIT_FILTERS.filter((name) => typeof values[name] === 'string').map((name) => [name, values[name]]));
}

export interface AnomalyThresholds {
  readonly offHoursStart: number; // local hour the working day ends (e.g. 20)
  readonly offHoursEnd: number; // local hour it starts (e.g. 7)
  readonly offHoursBurst: number;
  readonly manyActors: number;
  readonly manyActorsWindowMinutes: number;
  readonly denialSpike: number;
  readonly timeZone: string;
}

export const DEFAULT_THRESHOLDS: AnomalyThresholds = {
  offHoursStart: 20,
  offHoursEnd: 7,
  offHoursBurst: 20,
  manyActors: 5,
  manyActorsWindowMinutes: 60,
  denialSpike: 20,
  timeZone: 'Asia/Shanghai',
};

export interface Finding {
  kind: 'subject-not-in-open-case' | 'off-hours-burst' | 'many-actors-one-subject' | 'denial-spike';
  member: string;
  actor?: string;
  subject?: string;
  count: number;
  first: string;
  last: string;
  auditIds: string[];
}

// `bundle`: a refused evidence bundle (its allowed items are `bundle-item`s), e.g. for another member's case.
export const ACCESS_ACTIONS = ['lookup', 'verify', 'bundle-item', 'bundle'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PAGE = 1000;

/** Auditor search, exports and anomaly reports (the citizen's own access log is `CitizenAccessLog`). */
@Injectable()
export class AuditQueries {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pseudonyms: SubjectPseudonyms,
  ) {}

  /** Newest first; `cursor` is the `next` of the previous page (a sequence number). */
  search(filter: AuditFilter, cursor?: string, limit = 100): Promise<{ items: AuditItem[]; next?: string }> {
    return this.page(this.whereOf(filter), cursor, limit);
  }

  /**
   * Every matching event, newest first, page by page: for CSV/NDJSON exports of a report. The
   * filter is checked now, so a bad one is refused before an export starts, not in its middle.
   */
  all(filter: AuditFilter): AsyncGenerator<AuditItem> {
    return this.pages(this.whereOf(filter));
  }

  private async *pages(conditions: { where: string[]; params: unknown[] }): AsyncGenerator<AuditItem> {
    let cursor: string | undefined;
    do {
      const page = await this.page(conditions, cursor, MAX_PAGE);
      yield* page.items;
      cursor = page.next;
    } while (cursor);
  }

  private async page(conditions: { where: string[]; params: unknown[] }, cursor: string | undefined, limit: number) {
    const size = Math.min(Math.max(1, limit), MAX_PAGE);
    const where = [...conditions.where];
    const params = [...conditions.params];
    if (cursor !== undefined) {
      if (!/^\d{1,18}$/.test(cursor)) throw new Problem('VALIDATION_FAILED', 'cursor must be the next value of a previous page');
      params.push(cursor);
      where.push(`seq < $${params.length}`);
    }
    params.push(size + 1);
    const rows = await this.dataSource.query(
      `SELECT id, seq, at, member_id, actor, action, source_id, case_id, object_ref, purpose, fields, decision, reason, correlation_id
       FROM audit_event ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, size).map(toItem);
    return rows.length > size ? { items, next: String(items[items.length - 1].seq) } : { items };
  }

  /** Findings in a window; each links to its audit records (at most 50 ids each). */
  async anomalies(from: Date, to: Date, t: AnomalyThresholds = DEFAULT_THRESHOLDS): Promise<Finding[]> {
    const window = [from, to];
    const findings: Finding[] = [];
    const ids = 'array_agg(id::text ORDER BY seq)';
    // Attempts to read people outside an open case of the caller: each one is a finding.
    const strangers = await this.dataSource.query(
      `SELECT member_id, actor, count(*)::int AS n, min(at) AS first, max(at) AS last, (${ids})[1:50] AS ids
       FROM audit_event WHERE at >= $1 AND at < $2 AND action = ANY($3)
         AND reason IN ('SUBJECT_NOT_IN_CASE', 'CASE_NOT_OPEN', 'CASE_NOT_FOUND')
       GROUP BY member_id, actor`,
      [...window, ACCESS_ACTIONS],
    );
    for (const r of strangers) findings.push(finding('subject-not-in-open-case', r, { actor: r.actor }));
    const offHours = await this.dataSource.query(
      `SELECT member_id, actor, count(*)::int AS n, min(at) AS first, max(at) AS last, (${ids})[1:50] AS ids
       FROM audit_event WHERE at >= $1 AND at < $2 AND action = ANY($3)
         AND (extract(hour FROM at AT TIME ZONE $4) >= $5 OR extract(hour FROM at AT TIME ZONE $4) < $6)
       GROUP BY member_id, actor HAVING count(*) >= $7`,
      [...window, ACCESS_ACTIONS, t.timeZone, t.offHoursStart, t.offHoursEnd, t.offHoursBurst],
    );
    for (const r of offHours) findings.push(finding('off-hours-burst', r, { actor: r.actor }));
    const manyActors = await this.dataSource.query(
      `SELECT subject_hash, min(member_id) AS member_id, count(DISTINCT actor)::int AS n, min(at) AS first, max(at) AS last, (${ids})[1:50] AS ids
       FROM audit_event WHERE at >= $1 AND at < $2 AND action = ANY($3) AND subject_hash IS NOT NULL
       GROUP BY subject_hash, date_bin(make_interval(mins => $5), at, TIMESTAMPTZ '2000-01-01')
       HAVING count(DISTINCT actor) >= $4`,
      [...window, ACCESS_ACTIONS, t.manyActors, t.manyActorsWindowMinutes],
    );
    for (const r of manyActors) findings.push(finding('many-actors-one-subject', r, { subject: r.subject_hash }));
    const denials = await this.dataSource.query(
      `SELECT member_id, count(*)::int AS n, min(at) AS first, max(at) AS last, (${ids})[1:50] AS ids
       FROM audit_event WHERE at >= $1 AND at < $2 AND decision = 'denied'
       GROUP BY member_id HAVING count(*) >= $3`,
      [...window, t.denialSpike],
    );
    for (const r of denials) findings.push(finding('denial-spike', r));
    return findings;
  }

  private whereOf(filter: AuditFilter): { where: string[]; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.subject !== undefined) add('subject_hash = ?', this.pseudonyms.of(checkIdNumber(filter.subject)));
    if (filter.member !== undefined) add('member_id = ?', filter.member);
    if (filter.actor !== undefined) add('actor = ?', filter.actor);
    if (filter.source !== undefined) add('source_id = ?', filter.source);
    if (filter.caseId !== undefined) {
      if (!UUID.test(filter.caseId)) throw new Problem('VALIDATION_FAILED', 'caseId must be a UUID');
      add('case_id = ?', filter.caseId);
    }
    // Not indexed (the append is the lookups' hot path): narrow by case or time as well on a big log.
    if (filter.correlationId !== undefined) add('correlation_id = ?', filter.correlationId);
    if (filter.decision !== undefined) {
      if (!['allowed', 'denied', 'failed'].includes(filter.decision)) throw new Problem('VALIDATION_FAILED', 'decision must be allowed, denied or failed');
      add('decision = ?', filter.decision);
    }
    if (filter.from !== undefined) add('at >= ?', dateOf('from', filter.from));
    if (filter.to !== undefined) add('at < ?', dateOf('to', filter.to));
    return { where, params };
  }
}

function dateOf(name: string, value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new Problem('VALIDATION_FAILED', `${name} must be an ISO 8601 date-time`);
  return d;
}

function toItem(r: {
  id: string;
  seq: string;
  at: Date;
  member_id: string;
  actor: string;
  action: string;
  source_id: string | null;
  case_id: string | null;
  object_ref: string | null;
  purpose: string | null;
  fields: string[];
  decision: string;
  reason: string | null;
  correlation_id: string | null;
}): AuditItem {
  return {
    id: r.id,
    seq: Number(r.seq),
    at: r.at.toISOString(),
    member: r.member_id,
    actor: r.actor,
    action: r.action,
    source: r.source_id,
    caseId: r.case_id,
    object: r.object_ref,
    purpose: r.purpose,
    fields: r.fields,
    decision: r.decision,
    reason: r.reason,
    correlationId: r.correlation_id,
  };
}

function finding(
  kind: Finding['kind'],
  r: { member_id: string; n: number; first: Date; last: Date; ids: string[] },
  extra: { actor?: string; subject?: string } = {},
): Finding {
  return { kind, member: r.member_id, ...extra, count: r.n, first: r.first.toISOString(), last: r.last.toISOString(), auditIds: r.ids };
}
