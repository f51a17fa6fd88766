import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A request may end `superseded`: its recipient did not apply it because it had applied a newer
 * request for the same property (or account) first (docs/api.md, "Order per property"). Final,
 * like completed and rejected; only a signed status of the request's recipient sets it.
 */
export class SupersededRequests1763900000061 implements MigrationInterface {
  name = 'SupersededRequests1763900000061';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE transfer_request DROP CONSTRAINT transfer_request_state_check,
      ADD CONSTRAINT transfer_request_state_check CHECK (state IN ('pending', 'published', 'accepted', 'completed', 'rejected', 'superseded'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE transfer_request SET state = 'rejected' WHERE state = 'superseded'`);
    await q.query(`ALTER TABLE transfer_request DROP CONSTRAINT transfer_request_state_check,
      ADD CONSTRAINT transfer_request_state_check CHECK (state IN ('pending', 'published', 'accepted', 'completed', 'rejected'))`);
  }
}
