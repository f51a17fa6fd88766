import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Matter statistics (GET /v1/stats/matters) read the cases opened, and those completed, in a
 * window of time across every hall: an index for each.
 */
export class MatterStatistics1763900000073 implements MigrationInterface {
  name = 'MatterStatistics1763900000073';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX service_case_created_idx ON service_case (created_at)');
    await q.query(`CREATE INDEX service_case_completed_idx ON service_case (closed_at) WHERE state = 'completed'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX service_case_completed_idx');
    await q.query('DROP INDEX service_case_created_idx');
  }
}
