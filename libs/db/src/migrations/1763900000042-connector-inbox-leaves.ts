import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The utility bridge's inbox leaves datarun's database: the connector a recipient runs keeps it in
 * a SQLite file of its own (CONNECTOR_INBOX), since a partner's connector never reaches this
 * database. What a bridge recorded here only stopped redeliveries; a connector starting on an
 * empty inbox is still kept from applying twice by its system's idempotency key (requestId).
 */
export class ConnectorInboxLeaves1763900000042 implements MigrationInterface {
  name = 'ConnectorInboxLeaves1763900000042';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE bridge_inbox');
  }

  async down(q: QueryRunner): Promise<void> {
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
  }
}
