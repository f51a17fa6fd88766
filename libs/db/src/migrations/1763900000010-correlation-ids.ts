import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One correlation id end to end (docs/architecture.md, "The request context"): each outbox row keeps
 * the id of the request that wrote it (a case's completion, a resend), so the relay can put it on
 * the event it publishes (`ce_correlationid`) and on the `transfer.requested` audit record, long
 * after that request has answered. Rows written before have none; their events go out without one.
 *
 * `audit_event.correlation_id` exists since the audit log's first migration (and is in the hashed
 * canonical bytes), so the audit log needs no change here. It gets no index on purpose: every
 * lookup appends to that table, and the lookup is the hot path; a search by correlation id narrows
 * by case or time first (docs/operations.md).
 */
export class CorrelationIds1763900000010 implements MigrationInterface {
  name = 'CorrelationIds1763900000010';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE transfer_request ADD COLUMN correlation_id text');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE transfer_request DROP COLUMN correlation_id');
  }
}
