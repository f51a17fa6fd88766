import { type Caller, requireRole } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { AuditLog, changeBy } from '../audit-log.js';
import { AUDIT_FILTERS, type AuditFilter, type AuditItem, AuditQueries } from '../audit-queries.js';
import { SubjectPseudonyms } from '../subject-pseudonym.js';
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

/** A value shaped like a resident ID number (18 digits, or 17 and an X; the old 15 digits). */
const ID_NUMBER_LIKE = /^(\d{17}[\dXx]|\d{15})$/;
/** Filter values are the auditor's text: the record keeps enough of each to say what was asked. */
const MAX_VALUE_LENGTH = 200;

/**
 * The auditor's search of the audit log, newest first: a page at a time, or exported whole. Each
 * search and each export is itself audited (`audit.searched`, `audit.exported`), once, with its
 * filter, before its answer leaves: who watches the log is on the log too. The filter is kept in
 * the record's `reason` only, never in its subject, case or source columns, so a later search by
 * the same person, case or source finds what happened to them, not the auditors' searches for it.
 */
@Injectable()
export class SearchAuditEvents {
  constructor(
    private readonly queries: AuditQueries,
    private readonly audit: AuditLog,
    private readonly pseudonyms: SubjectPseudonyms,
  ) {}

  async run(cmd: SearchAuditEventsCommand): Promise<AuditSearchAnswer> {
    requireRole(cmd.caller, 'auditor');
    const format = cmd.format ?? 'json';
    if (format === 'ndjson' || format === 'csv') {
      // `all` checks the filter now, so a refused filter is not recorded as an export. The export
      // is read after its record is written: without a narrowing filter it lists that record too.
      const items = this.queries.all(cmd.filter);
      await this.record(cmd, 'audit.exported', [`format=${format}`]);
      return { download: format === 'csv' ? csvExport(items) : ndjsonExport(items) };
    }
    if (format !== 'json') throw new Problem('VALIDATION_FAILED', 'format must be json, ndjson or csv');
    const limit = cmd.limit === undefined ? 100 : Number(cmd.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Problem('VALIDATION_FAILED', 'limit must be a whole number from 1 to 1000');
    // Searched first, recorded second: the page does not list its own record.
    const page = await this.queries.search(cmd.filter, cmd.cursor, limit);
    await this.record(cmd, 'audit.searched', [
      ...(cmd.cursor !== undefined ? [`cursor=${cmd.cursor}`] : []),
      `limit=${limit}`,
      `returned=${page.items.length}`,
    ]);
    return { page };
  }

  private record(cmd: SearchAuditEventsCommand, action: string, extra: readonly string[]): Promise<string> {
    return this.audit.append(changeBy(cmd.caller, action, 'audit-log', { reason: [...this.describe(cmd.filter), ...extra].join(' ') }));
  }

  /**
   * The filter, minimal: a person (the subject, or any value shaped like an ID number, e.g. a
   * citizen as actor) only as their pseudonym, the keyed hash the log itself keeps; never in clear.
   */
  private describe(filter: AuditFilter): string[] {
    return AUDIT_FILTERS.flatMap((name) => {
      const value = filter[name];
      if (value === undefined) return [];
      if (name === 'subject' || ID_NUMBER_LIKE.test(value)) return [`${name}=pseudonym:${this.pseudonyms.of(value)}`];
      return [`${name}=${JSON.stringify(value.slice(0, MAX_VALUE_LENGTH))}`];
    });
  }
}
