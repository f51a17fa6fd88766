import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The access audit log (plain append; the audit issue adds the hash chain, checkpoints and
 * monthly partitions) and grants that may unmask fields.
 * The application role may insert and select audit events, never update, delete or truncate them.
 */
export class AccessAudit1763900000004 implements MigrationInterface {
  name = 'AccessAudit1763900000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE access_grant ADD COLUMN unmasked_fields text[] NOT NULL DEFAULT '{}'`);
    await q.query(`
      CREATE TABLE audit_event (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL CONSTRAINT audit_event_id_key UNIQUE,
        at timestamptz NOT NULL,
        member_id text NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        source_id text,
        subject_hash text,
        purpose text,
        case_id uuid,
        fields text[] NOT NULL DEFAULT '{}',
        decision text NOT NULL CONSTRAINT audit_event_decision_check CHECK (decision IN ('allowed', 'denied', 'failed')),
        reason text,
        latency_ms integer,
        correlation_id text
      )`);
    await q.query('CREATE INDEX audit_event_subject_idx ON audit_event (subject_hash, at)');
    await q.query('CREATE INDEX audit_event_member_idx ON audit_event (member_id, at)');
    await q.query('CREATE INDEX audit_event_case_idx ON audit_event (case_id)');
    await q.query(`
      DO $$
      BEGIN
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM %I', current_setting('datarun.app_role'));
      END $$;`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_event');
    await q.query('ALTER TABLE access_grant DROP COLUMN unmasked_fields');
  }
}
