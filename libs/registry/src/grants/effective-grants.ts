import type { EffectiveGrant } from '@datarun/access-policy';

/** One grant as `effectiveGrantsSql` returns it (JSON, column names as in access_grant). */
export interface EffectiveGrantRow {
  id: string;
  fields: string[];
  verify_fields: string[];
  purposes: string[];
  unmasked_fields: string[];
}

/**
 * The grants that count now for a consumer reading a source, as one JSON array: approved and
 * unexpired (revoked and rejected ones have another state). A scalar subquery for the lookup hot
 * path, which reads the case and the grants in one prepared statement (`@datarun/lookups`); the
 * arguments are the statement's parameter placeholders, e.g. `$2`. Served by
 * access_grant_consumer_source_idx.
 */
export function effectiveGrantsSql(consumer: string, source: string): string {
  return `SELECT coalesce(json_agg(g), '[]'::json) FROM (
                   SELECT id, fields, verify_fields, purposes, unmasked_fields FROM access_grant
                   WHERE consumer_id = ${consumer} AND source_id = ${source} AND state = 'approved' AND valid_until > now()) g`;
}

export function effectiveGrantOf(row: EffectiveGrantRow): EffectiveGrant {
  return { id: row.id, fields: row.fields, verifyFields: row.verify_fields, purposes: row.purposes, unmaskedFields: row.unmasked_fields };
}
