import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finding cases: a hall lists its own cases newest first, and finds one by a party's ID number,
 * matched through the parties' keyed hashes (the audit log's subject pseudonyms), never an index
 * of clear ID numbers. Rows opened before this have no hashes until the gateway fills them in at
 * its start (CaseSearch).
 */
export class CaseSearch1763900000072 implements MigrationInterface {
  name = 'CaseSearch1763900000072';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE service_case ADD COLUMN party_hashes text[]');
    await q.query('CREATE INDEX service_case_party_hashes_idx ON service_case USING gin (party_hashes)');
    await q.query('CREATE INDEX service_case_consumer_created_idx ON service_case (consumer_id, created_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX service_case_consumer_created_idx');
    await q.query('DROP INDEX service_case_party_hashes_idx');
    await q.query('ALTER TABLE service_case DROP COLUMN party_hashes');
  }
}
