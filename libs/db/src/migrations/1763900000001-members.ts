import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Members: every organisation's registered system, with the public keys it signs with (JWKS). */
export class Members1763900000001 implements MigrationInterface {
  name = 'Members1763900000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE member (
        id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9.-]{1,127}$'),
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('department', 'consumer', 'utility', 'auditor', 'admin')),
        jwks jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE member');
  }
}
