import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { AuditItem } from '../audit-queries.js';

/** The columns of a CSV export, in order; the NDJSON export carries every member of the item. */
const CSV_COLUMNS: ReadonlyArray<keyof AuditItem> = [
  'id',
  'seq',
  'at',
  'member',
  'actor',
  'action',
  'source',
  'caseId',
  'object',
  'purpose',
  'fields',
  'decision',
  'reason',
  'correlationId',
];

/** A download: its media type, a file name, and its content as it is produced. */
export interface AuditExport {
  readonly mediaType: string;
  readonly filename: string;
  readonly content: Readable;
}

/** One event a line. JSON escaping keeps every value inert, whatever an actor or reason says. */
export function ndjsonExport(items: AsyncIterable<AuditItem>): AuditExport {
  async function* lines(): AsyncGenerator<string> {
    for await (const item of items) yield `${JSON.stringify(item)}\n`;
  }
  return { mediaType: 'application/x-ndjson', filename: 'audit-events.ndjson', content: Readable.from(lines()) };
}

/**
 * A header row and one row an event, for a spreadsheet, through csv-stringify (quoting is a
 * library's job). Safe to open (OWASP "CSV Injection"): a cell starting with `= + - @`, a tab or a
 * carriage return (or their full-width forms) is a formula to Excel and WPS, and `actor`, `reason`
 * and `object` hold text that callers chose, so such a cell gets a leading `'` and is shown as
 * text (`escape_formulas`). A UTF-8 byte order mark first, or Excel reads Chinese names as
 * mojibake. Several values of one cell (`fields`) are joined by `;`.
 */
export function csvExport(items: AsyncIterable<AuditItem>): AuditExport {
  const csv = stringify({
    bom: true,
    header: true,
    columns: CSV_COLUMNS.map((key) => ({ key })),
    escape_formulas: true,
    cast: { object: (value) => (Array.isArray(value) ? value.join(';') : JSON.stringify(value)) },
  });
  const rows = Readable.from(items);
  // pipe() does not pass errors on: a failing source (the database went away mid-export) must
  // end the download with its error, not leave it hanging.
  rows.once('error', (error) => csv.destroy(error));
  return { mediaType: 'text/csv; charset=utf-8', filename: 'audit-events.csv', content: rows.pipe(csv) };
}
