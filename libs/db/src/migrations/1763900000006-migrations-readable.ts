import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The application role may read which migrations ran, so readiness can say when the schema is
 * behind the code (the table predates the default privileges of the first migration).
 */
export class MigrationsReadable1763900000006 implements MigrationInterface {
  name = 'MigrationsReadable1763900000006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DO $$ BEGIN EXECUTE format('GRANT SELECT ON typeorm_migrations TO %I', current_setting('datarun.app_role')); END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DO $$ BEGIN EXECUTE format('REVOKE SELECT ON typeorm_migrations FROM %I', current_setting('datarun.app_role')); END $$`);
  }
}
