import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The applications' role and its rights in this schema. The role is created only when missing
 * (production DBAs usually create it with a password); default privileges give it read and write
 * on tables the owner creates later, and the audit migration takes UPDATE and DELETE away again.
 */
export class ApplicationRole1763900000000 implements MigrationInterface {
  name = 'ApplicationRole1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      DECLARE app_role text := current_setting('datarun.app_role');
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app_role) THEN
          EXECUTE format('CREATE ROLE %I LOGIN', app_role);
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), app_role);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', current_schema(), app_role);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I', current_schema(), app_role);
      END $$;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      DECLARE app_role text := current_setting('datarun.app_role');
      BEGIN
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM %I', current_schema(), app_role);
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM %I', current_schema(), app_role);
        EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM %I', current_schema(), app_role);
      END $$;
    `);
  }
}
