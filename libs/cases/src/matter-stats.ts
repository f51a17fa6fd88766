import { type Caller, requireRole } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CASE_STATES, type CaseState } from './case.entity.js';
import { queryTime } from './query-time.js';

export type StatsBucket = 'hour' | 'day';

export interface MatterStatsQuery {
  readonly from?: string;
  readonly to?: string;
  readonly bucket?: string;
}

/** One matter's figures over the window. */
export interface MatterFigures {
  matter: string;
  /** Cases opened in the window. */
  opened: number;
  /** Of those, how many are in each state now. */
  byState: Record<CaseState, number>;
  /** Cases completed in the window, and how long each took from opening (seconds). */
  completion: { count: number; medianSeconds: number | null; p90Seconds: number | null };
  /** Approval tasks of the window's cases that are pending past due, or were decided after it. */
  overdueApprovals: number;
}

/** One cell of the heat map (办件热力图): a matter's cases opened and completed in one hour or day. */
export interface MatterBucket {
  start: string;
  matter: string;
  opened: number;
  completed: number;
}

export interface MatterStats {
  from: string;
  to: string;
  bucket: StatsBucket;
  matters: MatterFigures[];
  buckets: MatterBucket[];
}

const DAY_MS = 86_400_000;
/** The longest window per bucket: a month of hours, a year (and a day) of days. */
const MAX_WINDOW_MS: Record<StatsBucket, number> = { hour: 31 * DAY_MS, day: 366 * DAY_MS };

/**
 * Matter statistics for a hall's staffing and the auditors (GET /v1/stats/matters): counts by
 * matter, state and hour or day, the median and 90th percentile time to completion, overdue
 * approvals. Computed from the cases (indexed by opening and completion time), never from the
 * audit log; aggregates only, no party appears.
 */
@Injectable()
export class MatterStatistics {
  constructor(private readonly dataSource: DataSource) {}

  async of(caller: Caller, query: MatterStatsQuery): Promise<MatterStats> {
    requireRole(caller, 'admin', 'auditor');
    const bucket = (query.bucket ?? 'day') as StatsBucket;
    if (bucket !== 'hour' && bucket !== 'day') throw new Problem('VALIDATION_FAILED', 'bucket must be hour or day');
    const to = queryTime('to', query.to) ?? new Date();
    const from = queryTime('from', query.from) ?? new Date(to.getTime() - 30 * DAY_MS);
    if (from >= to) throw new Problem('VALIDATION_FAILED', 'from must be before to');
    if (to.getTime() - from.getTime() > MAX_WINDOW_MS[bucket]) {
      throw new Problem('VALIDATION_FAILED', `a window of ${bucket}s spans at most ${MAX_WINDOW_MS[bucket] / DAY_MS} days`);
    }
    const window = [from.toISOString(), to.toISOString()];
    const [opened, completed, overdue, cells] = await Promise.all([
      this.dataSource.query<Array<{ matter: string; state: CaseState; n: number }>>(
        `SELECT matter_code AS matter, state, count(*)::int AS n FROM service_case
          WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2`,
        window,
      ),
      this.dataSource.query<Array<{ matter: string; n: number; median: number | null; p90: number | null }>>(
        `SELECT matter_code AS matter, count(*)::int AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - created_at))::float8 AS median,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM closed_at - created_at))::float8 AS p90
           FROM service_case WHERE state = 'completed' AND closed_at >= $1 AND closed_at < $2 GROUP BY 1`,
        window,
      ),
      this.dataSource.query<Array<{ matter: string; n: number }>>(
        `SELECT c.matter_code AS matter, count(*)::int AS n
           FROM case_approval a JOIN service_case c ON c.id = a.case_id
          WHERE c.created_at >= $1 AND c.created_at < $2
            AND ((a.state = 'pending' AND c.state = 'approving' AND a.due_at < now()) OR a.decided_at > a.due_at)
          GROUP BY 1`,
        window,
      ),
      this.dataSource.query<Array<{ start: Date; matter: string; opened: number; completed: number }>>(
        `SELECT start, matter, sum(opened)::int AS opened, sum(completed)::int AS completed FROM (
             SELECT date_trunc($3, created_at, 'UTC') AS start, matter_code AS matter, 1 AS opened, 0 AS completed
               FROM service_case WHERE created_at >= $1 AND created_at < $2
             UNION ALL
             SELECT date_trunc($3, closed_at, 'UTC'), matter_code, 0, 1
               FROM service_case WHERE state = 'completed' AND closed_at >= $1 AND closed_at < $2) cells
          GROUP BY 1, 2 ORDER BY 1, 2`,
        [...window, bucket],
      ),
    ]);
    const matters = new Map<string, MatterFigures>();
    const figures = (matter: string) => {
      let f = matters.get(matter);
      if (!f) {
        f = {
          matter,
          opened: 0,
          byState: Object.fromEntries(CASE_STATES.map((s) => [s, 0])) as Record<CaseState, number>,
          completion: { count: 0, medianSeconds: null, p90Seconds: null },
          overdueApprovals: 0,
        };
        matters.set(matter, f);
      }
      return f;
    };
    for (const r of opened) {
      const f = figures(r.matter);
      f.opened += r.n;
      f.byState[r.state] += r.n;
    }
    for (const r of completed) {
      figures(r.matter).completion = { count: r.n, medianSeconds: seconds(r.median), p90Seconds: seconds(r.p90) };
    }
    for (const r of overdue) figures(r.matter).overdueApprovals = r.n;
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucket,
      matters: [...matters.values()].sort((a, b) => a.matter.localeCompare(b.matter)),
      buckets: cells.map((c) => ({ start: c.start.toISOString(), matter: c.matter, opened: c.opened, completed: c.completed })),
    };
  }
}

function seconds(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}
