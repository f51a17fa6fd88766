import { type Caller, requireRole } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { type AccessLogEntry, CitizenAccessLog } from '../access-log.js';
import { AuditLog, changeBy } from '../audit-log.js';
import { AuditQueries, type Finding } from '../audit-queries.js';

const DAY_MS = 24 * 3600 * 1000;

export interface AnomalyReportCommand {
  readonly caller: Caller;
  /** ISO 8601, as given; default 24 hours before `to`. */
  readonly from?: string;
  /** ISO 8601, as given; default now. */
  readonly to?: string;
}

/**
 * An auditor's anomaly report over a window (docs/security.md lists the findings). It names
 * members, actors and subjects' pseudonyms: audited like a search (`audit.anomalies-reported`, the
 * window as its filter), before it leaves.
 */
@Injectable()
export class ReportAnomalies {
  constructor(
    private readonly queries: AuditQueries,
    private readonly audit: AuditLog,
  ) {}

  async run(cmd: AnomalyReportCommand): Promise<{ from: string; to: string; findings: Finding[] }> {
    requireRole(cmd.caller, 'auditor');
    const end = cmd.to ? new Date(cmd.to) : new Date();
    const start = cmd.from ? new Date(cmd.from) : new Date(end.getTime() - DAY_MS);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || start >= end)
      throw new Problem('VALIDATION_FAILED', 'from and to must be ISO 8601 date-times, from before to');
    const report = { from: start.toISOString(), to: end.toISOString(), findings: await this.queries.anomalies(start, end) };
    await this.audit.append(
      changeBy(cmd.caller, 'audit.anomalies-reported', 'audit-log', { reason: `from=${report.from} to=${report.to} findings=${report.findings.length}` }),
    );
    return report;
  }
}

/** A citizen reads who read their records: the subject is the token's, never a parameter. */
@Injectable()
export class ReadMyAccessLog {
  constructor(private readonly accessLogs: CitizenAccessLog) {}

  async run(cmd: { readonly caller: Caller }): Promise<{ items: AccessLogEntry[] }> {
    requireRole(cmd.caller, 'citizen');
    return { items: await this.accessLogs.of(cmd.caller.actor) };
  }
}
