import { Problem } from '@datarun/problems';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The SQL of a timestamptz column as an ISO time to the microsecond (UTC), for a keyset cursor: a
 * JavaScript Date keeps milliseconds, and a cursor cut to them could skip rows within the same
 * millisecond.
 */
export function exactTimeSql(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/**
 * The position after a row in a listing ordered by (time, id), opaque to callers: pass the time as
 * `exactTimeSql` read it and the row's uuid. `parseTimeIdCursor` takes it back, or refuses what no
 * page handed out with VALIDATION_FAILED.
 */
export function timeIdCursor(at: string, id: string): string {
  return Buffer.from(`${at}|${id}`).toString('base64url');
}

export function parseTimeIdCursor(cursor: string): { at: string; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || !UUID.test(id) || Number.isNaN(Date.parse(at))) throw new Problem('VALIDATION_FAILED', 'cursor must be the next of a previous page');
  return { at, id };
}
