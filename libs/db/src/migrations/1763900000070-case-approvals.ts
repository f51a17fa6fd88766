import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * 并联审批 (parallel approvals): a matter may name approving departments, each with a time limit
 * (承诺时限). A case of such a matter opens `approving` with one task per department, all at once;
 * it reads `open` (and may complete) once every task is approved, `rejected` after one rejection.
 */
export class CaseApprovals1763900000070 implements MigrationInterface {
  name = 'CaseApprovals1763900000070';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE matter ADD COLUMN approvals jsonb NOT NULL DEFAULT '[]'`);
    await q.query(`ALTER TABLE service_case DROP CONSTRAINT service_case_state_check,
      ADD CONSTRAINT service_case_state_check CHECK (state IN ('open', 'approving', 'rejected', 'completed', 'withdrawn')),
      ADD COLUMN rejection_reason text`);
    await q.query(`
      CREATE TABLE case_approval (
        id uuid PRIMARY KEY,
        case_id uuid NOT NULL CONSTRAINT case_approval_case_id_fkey REFERENCES service_case(id),
        approver_id text NOT NULL CONSTRAINT case_approval_approver_id_fkey REFERENCES member(id),
        state text NOT NULL CONSTRAINT case_approval_state_check CHECK (state IN ('pending', 'approved', 'rejected')),
        due_at timestamptz NOT NULL,
        decided_at timestamptz,
        decided_by text,
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT case_approval_case_id_approver_id_key UNIQUE (case_id, approver_id)
      )`);
    // A department's queue: its tasks by state, oldest due first.
    await q.query('CREATE INDEX case_approval_queue_idx ON case_approval (approver_id, state, due_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE case_approval');
    await q.query(`UPDATE service_case SET state = 'withdrawn' WHERE state IN ('approving', 'rejected')`);
    await q.query(`ALTER TABLE service_case DROP COLUMN rejection_reason, DROP CONSTRAINT service_case_state_check,
      ADD CONSTRAINT service_case_state_check CHECK (state IN ('open', 'completed', 'withdrawn'))`);
    await q.query('ALTER TABLE matter DROP COLUMN approvals');
  }
}
