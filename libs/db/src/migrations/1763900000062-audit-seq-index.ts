import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_event_seq_idx` (seq) repeats the leading column of the primary key (seq, at), which
 * serves every lookup and range of seqs as well; each appended record paid for it all the same,
 * inside the one-at-a-time append that bounds the audited lookup rate (docs/performance.md).
 */
export class AuditSeqIndex1763900000062 implements MigrationInterface {
  name = 'AuditSeqIndex1763900000062';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS audit_event_seq_idx');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX audit_event_seq_idx ON audit_event (seq)');
  }
}
