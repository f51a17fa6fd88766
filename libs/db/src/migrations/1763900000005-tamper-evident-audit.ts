import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log becomes tamper-evident and lasting:
 * - each event stores the exact bytes that were hashed (RFC 8785 canonical JSON) and its chain
 *   hash; `audit_chain_head` holds the tail (seq, chain hash, Merkle frontier) and its row lock
 *   serialises writers, so sequence numbers are contiguous and commit in order;
 * - partitioned by month (a default partition catches anything outside the prepared months;
 *   `audit_ensure_partitions` prepares months ahead and may be called by the application role);
 * - signed checkpoints in `audit_checkpoint`.
 * The plain table of the lookups issue held no chain; its rows are dropped (development data only).
 */
export class TamperEvidentAudit1763900000005 implements MigrationInterface {
  name = 'TamperEvidentAudit1763900000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_event');
    await q.query(`
      CREATE TABLE audit_event (
        seq bigint NOT NULL,
        id uuid NOT NULL,
        at timestamptz NOT NULL,
        member_id text NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        source_id text,
        subject_hash text,
        purpose text,
        case_id uuid,
        object_ref text,
        fields text[] NOT NULL DEFAULT '{}',
        decision text NOT NULL CONSTRAINT audit_event_decision_check CHECK (decision IN ('allowed', 'denied', 'failed')),
        reason text,
        latency_ms integer,
        correlation_id text,
        canonical bytea NOT NULL,
        chain_hash bytea NOT NULL,
        PRIMARY KEY (seq, at)
      ) PARTITION BY RANGE (at)`);
    await q.query('CREATE TABLE audit_event_default PARTITION OF audit_event DEFAULT');
    await q.query('CREATE INDEX audit_event_seq_idx ON audit_event (seq)');
    await q.query('CREATE INDEX audit_event_id_idx ON audit_event (id)');
    await q.query('CREATE INDEX audit_event_subject_idx ON audit_event (subject_hash, seq)');
    await q.query('CREATE INDEX audit_event_member_idx ON audit_event (member_id, seq)');
    await q.query('CREATE INDEX audit_event_case_idx ON audit_event (case_id)');
    await q.query(`
      CREATE FUNCTION audit_ensure_partitions(months_ahead integer) RETURNS integer
      LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE
        first date := date_trunc('month', now() - interval '1 month');
        created integer := 0;
        m date;
        name text;
      BEGIN
        FOR i IN 0..months_ahead + 1 LOOP
          m := first + make_interval(months => i);
          name := 'audit_event_' || to_char(m, 'YYYY_MM');
          IF to_regclass(name) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)', name, m, m + interval '1 month');
            -- A partition is a table of its own: without this the application role could change
            -- rows by naming the partition instead of the parent.
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %I', name, current_setting('datarun.app_role'));
            created := created + 1;
          END IF;
        END LOOP;
        RETURN created;
      END $$`);
    await q.query('SELECT audit_ensure_partitions(3)');
    await q.query(`
      CREATE TABLE audit_chain_head (
        chain_id integer PRIMARY KEY CONSTRAINT audit_chain_head_single CHECK (chain_id = 1),
        seq bigint NOT NULL,
        chain_hash bytea NOT NULL,
        frontier jsonb NOT NULL
      )`);
    await q.query(`INSERT INTO audit_chain_head VALUES (1, 0, decode(repeat('00', 32), 'hex'), '{"size": 0, "hashes": []}')`);
    await q.query(`
      CREATE TABLE audit_checkpoint (
        seq bigint PRIMARY KEY,
        chain_hash text NOT NULL,
        root_hash text NOT NULL,
        signed_at timestamptz NOT NULL,
        alg text NOT NULL,
        kid text NOT NULL,
        signature text NOT NULL,
        public_key jsonb NOT NULL
      )`);
    await q.query(`
      DO $$
      DECLARE app text := current_setting('datarun.app_role');
      BEGIN
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_event_default, audit_checkpoint FROM %I', app);
        EXECUTE format('REVOKE DELETE, TRUNCATE, INSERT ON audit_chain_head FROM %I', app);
        EXECUTE format('GRANT EXECUTE ON FUNCTION audit_ensure_partitions(integer) TO %I', app);
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_checkpoint');
    await q.query('DROP TABLE audit_chain_head');
    await q.query('DROP FUNCTION audit_ensure_partitions(integer)');
    await q.query('DROP TABLE audit_event');
  }
}
