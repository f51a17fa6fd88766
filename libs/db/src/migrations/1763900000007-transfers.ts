import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Transfers: the transactional outbox of utility requests (one row per request, also its progress),
 * the materials a case's window uploaded, each bridge's inbox, and the dead letters the relay lists
 * and replays. These tables are read and written with SQL by the transfer, relay and bridge code
 * (no entities): their statements are few and hot, and the drift check covers entity tables only.
 */
export class Transfers1763900000007 implements MigrationInterface {
  name = 'Transfers1763900000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE transfer_request (
        seq bigserial PRIMARY KEY,
        request_id uuid NOT NULL UNIQUE,
        case_id uuid NOT NULL REFERENCES service_case(id),
        utility text NOT NULL,
        request_kind text NOT NULL CONSTRAINT transfer_request_kind_check CHECK (request_kind IN ('transfer', 'discount')),
        topic text NOT NULL,
        message_key text NOT NULL,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'pending'
          CONSTRAINT transfer_request_state_check CHECK (state IN ('pending', 'published', 'accepted', 'completed', 'rejected')),
        reference text,
        reason text,
        sends integer NOT NULL DEFAULT 0,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (case_id, utility, request_kind)
      )`);
    // The relay's poll: pending rows in outbox order. Partial, so it stays small however many
    // requests have been delivered.
    await q.query(`CREATE INDEX transfer_request_pending_idx ON transfer_request (seq) WHERE state = 'pending'`);
    await q.query(`CREATE INDEX transfer_request_case_idx ON transfer_request (case_id)`);
    await q.query(`
      CREATE TABLE case_material (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL REFERENCES service_case(id),
        type text NOT NULL,
        sha256 text NOT NULL CONSTRAINT case_material_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        content_type text NOT NULL,
        size integer NOT NULL,
        bytes bytea NOT NULL,
        uploaded_by text NOT NULL,
        uploaded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (case_id, type)
      )`);
    await q.query(`
      CREATE TABLE bridge_inbox (
        utility text NOT NULL,
        event_id uuid NOT NULL,
        outcome text NOT NULL CONSTRAINT bridge_inbox_outcome_check CHECK (outcome IN ('completed', 'rejected')),
        reference text,
        reason text,
        redeliveries integer NOT NULL DEFAULT 0,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (utility, event_id)
      )`);
    await q.query(`
      CREATE TABLE dead_letter (
        id uuid PRIMARY KEY,
        dlq_partition integer NOT NULL,
        dlq_offset bigint NOT NULL,
        topic text NOT NULL,
        message_key text,
        value bytea,
        headers jsonb NOT NULL,
        reason text NOT NULL,
        dead_lettered_by text NOT NULL,
        dead_lettered_at timestamptz NOT NULL,
        replays integer NOT NULL DEFAULT 0,
        replayed_at timestamptz,
        UNIQUE (dlq_partition, dlq_offset)
      )`);
    await q.query(`CREATE INDEX dead_letter_time_idx ON dead_letter (dead_lettered_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE dead_letter');
    await q.query('DROP TABLE bridge_inbox');
    await q.query('DROP TABLE case_material');
    await q.query('DROP TABLE transfer_request');
  }
}
