import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Nothing unsigned changes state from Kafka (docs/security.md):
 * - `dead_letter.sealed_by` says who vouched for a dead letter's origin (`datarun`, or the member
 *   whose bridge sealed it); a row without one is planted and is never replayed, and
 *   `planted_reason` says why. Rows recorded before this migration were never checked: they stay
 *   without a seal, listed as planted (re-send a utility request instead of replaying it).
 * - `transfer_request.resent_at`: a status signed (well) before a request was re-sent answers the
 *   earlier send, and is refused, so replaying it cannot undo the resend.
 * - `record_version` keeps, per replica source and subject, the signed time and signature of the
 *   newest record ingested from Kafka, so a record signed earlier, or that record again, replayed
 *   later, cannot roll the replica back.
 *   The subject is a keyed hash (DATARUN_SUBJECT_HASH_KEY), as in the audit log, not the ID number.
 */
export class KafkaSignatures1763900000033 implements MigrationInterface {
  name = 'KafkaSignatures1763900000033';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE dead_letter ADD COLUMN sealed_by text, ADD COLUMN planted_reason text');
    await q.query(`UPDATE dead_letter SET planted_reason = 'recorded before dead letters were sealed'`);
    await q.query('ALTER TABLE transfer_request ADD COLUMN resent_at timestamptz');
    await q.query(`
      CREATE TABLE record_version (
        source_id text NOT NULL,
        subject_hash text NOT NULL,
        signed_at timestamptz NOT NULL,
        signature text NOT NULL,
        PRIMARY KEY (source_id, subject_hash)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE record_version');
    await q.query('ALTER TABLE transfer_request DROP COLUMN resent_at');
    await q.query('ALTER TABLE dead_letter DROP COLUMN planted_reason, DROP COLUMN sealed_by');
  }
}
