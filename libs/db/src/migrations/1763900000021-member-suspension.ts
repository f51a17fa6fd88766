import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A member can be suspended (docs/operations.md, "Suspending a member"): while its state is
 * `suspended`, every token and signature of it is refused, in every process within the key
 * directory's few seconds. Existing members are active. Retirement will be a further state.
 */
export class MemberSuspension1763900000021 implements MigrationInterface {
  name = 'MemberSuspension1763900000021';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE member ADD COLUMN state text NOT NULL DEFAULT 'active' CONSTRAINT member_state_check CHECK (state IN ('active', 'suspended'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE member DROP COLUMN state');
  }
}
