import { type Caller, requireRole } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { type AuditFilter, type AuditItem, AuditQueries } from '../audit-queries.js';
import { type AuditExport, csvExport, ndjsonExport } from './audit-export.js';

export interface SearchAuditEventsCommand {
  readonly caller: Caller;
  readonly filter: AuditFilter;
  /** `json` (a page, the default), `ndjson` or `csv` (the whole result as a download). */
  readonly format?: string;
  /** The `next` of the previous page. */
  readonly cursor?: string;
  /** Page size, 1..1000 (default 100), as given. */
  readonly limit?: string;
}

export interface AuditEventPage {
  items: AuditItem[];
  next?: string;
}

/** A page of a search, or the whole result as a download. */
export type AuditSearchAnswer = { readonly page: AuditEventPage } | { readonly download: AuditExport };

/** The auditor's search of the audit log, newest first: a page at a time, or exported whole. */
@Injectable()
export class SearchAuditEvents {
  constructor(private readonly queries: AuditQueries) {}

  async run(cmd: SearchAuditEventsCommand): Promise<AuditSearchAnswer> {
    requireRole(cmd.caller, 'auditor');
    const format = cmd.format ?? 'json';
    if (format === 'ndjson') return { download: ndjsonExport(this.queries.all(cmd.filter)) };
    if (format === 'csv') return { download: csvExport(this.queries.all(cmd.filter)) };
    if (format !== 'json') throw new Problem('VALIDATION_FAILED', 'format must be json, ndjson or csv');
    const limit = cmd.limit === undefined ? 100 : Number(cmd.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Problem('VALIDATION_FAILED', 'limit must be a whole number from 1 to 1000');
    return { page: await this.queries.search(cmd.filter, cmd.cursor, limit) };
  }
}
