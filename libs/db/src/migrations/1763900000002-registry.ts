import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The registry: data sources and their schema versions, replica records, grants with their
 * decision history, and matters.
 */
export class Registry1763900000002 implements MigrationInterface {
  name = 'Registry1763900000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE source (
        id text PRIMARY KEY CONSTRAINT source_id_check CHECK (id ~ '^[a-z][a-z0-9-]{1,63}$'),
        title text NOT NULL,
        owner_id text NOT NULL REFERENCES member(id),
        subject_key text NOT NULL,
        mode text NOT NULL CONSTRAINT source_mode_check CHECK (mode IN ('replica', 'federated')),
        endpoint text,
        current_version integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE source_version (
        source_id text NOT NULL REFERENCES source(id),
        version integer NOT NULL,
        schema jsonb NOT NULL,
        classification jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source_id, version)
      )`);
    // Replica records, read by primary key on the lookup hot path.
    await q.query(`
      CREATE TABLE source_record (
        source_id text NOT NULL REFERENCES source(id),
        subject_key text NOT NULL,
        data jsonb NOT NULL,
        schema_version integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source_id, subject_key)
      )`);
    await q.query(`
      CREATE TABLE access_grant (
        id uuid PRIMARY KEY,
        consumer_id text NOT NULL REFERENCES member(id),
        source_id text NOT NULL REFERENCES source(id),
        fields text[] NOT NULL,
        verify_fields text[] NOT NULL DEFAULT '{}',
        purposes text[] NOT NULL,
        valid_until timestamptz NOT NULL,
        reason text NOT NULL,
        state text NOT NULL CONSTRAINT access_grant_state_check CHECK (state IN ('requested', 'approved', 'rejected', 'revoked')),
        requested_by text NOT NULL,
        decided_by text,
        decided_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX access_grant_source_state_idx ON access_grant (source_id, state)');
    await q.query('CREATE INDEX access_grant_consumer_source_idx ON access_grant (consumer_id, source_id)');
    await q.query(`
      CREATE TABLE grant_decision (
        id bigserial PRIMARY KEY,
        grant_id uuid NOT NULL REFERENCES access_grant(id),
        decision text NOT NULL CONSTRAINT grant_decision_decision_check CHECK (decision IN ('approved', 'rejected', 'revoked')),
        member_id text NOT NULL,
        actor text NOT NULL,
        note text,
        decided_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX grant_decision_grant_idx ON grant_decision (grant_id)');
    await q.query(`
      CREATE TABLE matter (
        code text PRIMARY KEY CONSTRAINT matter_code_check CHECK (code ~ '^[a-z][a-z0-9-]{1,63}$'),
        title text NOT NULL,
        evidence text[] NOT NULL,
        materials text[] NOT NULL,
        on_complete jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['matter', 'grant_decision', 'access_grant', 'source_record', 'source_version', 'source']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
