import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cases (办件): the frame of every lookup. Parties live in the case row because every lookup
 * reads the case by primary key anyway and checks its subject against them.
 */
export class Cases1763900000003 implements MigrationInterface {
  name = 'Cases1763900000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE service_case (
        id uuid PRIMARY KEY,
        consumer_id text NOT NULL REFERENCES member(id),
        matter_code text NOT NULL REFERENCES matter(code),
        state text NOT NULL CONSTRAINT service_case_state_check CHECK (state IN ('open', 'completed', 'withdrawn')),
        parties jsonb NOT NULL,
        property jsonb,
        utility_accounts jsonb,
        materials jsonb NOT NULL,
        opened_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz
      )`);
    await q.query('CREATE INDEX service_case_consumer_state_idx ON service_case (consumer_id, state)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE service_case');
  }
}
