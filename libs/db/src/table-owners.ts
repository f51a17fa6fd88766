/**
 * Which lib owns each table: the one place that says so. The owner is the only lib whose SQL or
 * entities name the table; every other lib goes through a port the owner exports (each lib's
 * README lists its ports). The migrations here in `@datarun/db` are the schema of every table and
 * are the only other code that names them. A new table is added here in the same change as its
 * migration: `table-owners.spec.ts` fails on a lib naming a table it does not own, and the
 * database test fails on a table with no owner or no entity.
 */
export const TABLE_OWNERS = {
  member: 'registry',
  source: 'registry',
  source_version: 'registry',
  access_grant: 'registry',
  grant_decision: 'registry',
  matter: 'registry',
  recipient: 'registry',
  // The replica store: written by the registry's ingest through `ReplicaRecords`, read on the
  // lookup hot path by the replica adapter's prepared statement.
  source_record: 'sources',
  service_case: 'cases',
  case_material: 'cases',
  case_approval: 'cases',
  transfer_request: 'transfers',
  dead_letter: 'transfers',
  record_version: 'transfers',
  relay_lease: 'transfers',
  // Monthly partitions (audit_event_YYYY_MM, audit_event_default) belong with their table.
  audit_event: 'audit',
  audit_chain_head: 'audit',
  audit_checkpoint: 'audit',
} as const;

export type OwnedTable = keyof typeof TABLE_OWNERS;
export type TableOwner = (typeof TABLE_OWNERS)[OwnedTable];

/** The table a name refers to: a partition of the audit log counts as `audit_event`. */
export function tableOf(name: string): OwnedTable | undefined {
  if (Object.hasOwn(TABLE_OWNERS, name)) return name as OwnedTable;
  if (/^audit_event_(default|\d{4}_\d{2})$/.test(name)) return 'audit_event';
  return undefined;
}
