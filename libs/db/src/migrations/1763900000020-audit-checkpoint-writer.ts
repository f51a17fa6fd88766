import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed checkpoints are written by the audit app alone. The application role (every app's
 * connection) may still read them but no longer insert one: a gateway, registry or relay whose
 * credentials leak cannot plant a checkpoint of a rewritten chain. The audit app connects as its
 * own role (`datarun.audit_role`, from DATABASE_AUDIT_URL; created here when missing, as the
 * application role is), which is a member of the application role and has INSERT on
 * `audit_checkpoint` besides. When both are one role (DATABASE_URL alone), nothing is taken away.
 */
export class AuditCheckpointWriter1763900000020 implements MigrationInterface {
  name = 'AuditCheckpointWriter1763900000020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      DECLARE
        app text := current_setting('datarun.app_role');
        audit text := coalesce(nullif(current_setting('datarun.audit_role', true), ''), app);
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = audit) THEN
          EXECUTE format('CREATE ROLE %I LOGIN', audit);
        END IF;
        IF audit <> app AND NOT pg_has_role(audit, app, 'MEMBER') THEN
          EXECUTE format('GRANT %I TO %I', app, audit);
        END IF;
        EXECUTE format('REVOKE INSERT ON audit_checkpoint FROM %I', app);
        EXECUTE format('GRANT INSERT ON audit_checkpoint TO %I', audit);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      DECLARE
        app text := current_setting('datarun.app_role');
        audit text := coalesce(nullif(current_setting('datarun.audit_role', true), ''), app);
      BEGIN
        IF audit <> app THEN
          EXECUTE format('REVOKE INSERT ON audit_checkpoint FROM %I', audit);
        END IF;
        EXECUTE format('GRANT INSERT ON audit_checkpoint TO %I', app);
      END $$`);
  }
}
