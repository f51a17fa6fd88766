import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every request names the member it goes to (docs/api.md, Recipients):
 * - `transfer_request.recipient`: the recipient member, resolved when the case completed (a matter
 *   names a member or a utility kind; the kind resolves to the member registered for it then). A
 *   status moves a request only when that member signed it, and a material link is issued to it.
 *   Rows written before recipients were registered have none: their kind's member answers for them.
 * - `utility` is the utility kind for a kind's transfer or discount, and null for everything else.
 * - `request_kind` gains `benefit` (a benefit a matter decided, for 人社, 教育, 残联, …), and
 *   `benefit` names which.
 */
export class RequestRecipients1763900000041 implements MigrationInterface {
  name = 'RequestRecipients1763900000041';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE transfer_request ADD COLUMN recipient text, ADD COLUMN benefit text, ALTER COLUMN utility DROP NOT NULL');
    await q.query('ALTER TABLE transfer_request DROP CONSTRAINT transfer_request_kind_check');
    await q.query(`ALTER TABLE transfer_request ADD CONSTRAINT transfer_request_kind_check CHECK (request_kind IN ('transfer', 'discount', 'benefit'))`);
    await q.query(`ALTER TABLE transfer_request ADD CONSTRAINT transfer_request_benefit_check CHECK ((request_kind = 'benefit') = (benefit IS NOT NULL))`);
    // A recipient's pull (GET /v1/requests) reads its requests in outbox order.
    await q.query('CREATE INDEX transfer_request_recipient_idx ON transfer_request (recipient, seq)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX transfer_request_recipient_idx');
    await q.query('ALTER TABLE transfer_request DROP CONSTRAINT transfer_request_benefit_check, DROP CONSTRAINT transfer_request_kind_check');
    await q.query(`DELETE FROM transfer_request WHERE request_kind = 'benefit'`);
    await q.query(`ALTER TABLE transfer_request ADD CONSTRAINT transfer_request_kind_check CHECK (request_kind IN ('transfer', 'discount'))`);
    await q.query('ALTER TABLE transfer_request DROP COLUMN benefit, DROP COLUMN recipient, ALTER COLUMN utility SET NOT NULL');
  }
}
