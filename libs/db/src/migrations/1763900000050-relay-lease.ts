import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox publisher's lease (docs/operations.md, "Relay leadership and the lease"): one row per
 * schema. A relay takes it when it is free or expired, which moves `epoch` on; the relay marks rows
 * published only while its epoch is still the row's and unexpired, so a relay that was deposed (a
 * paused process, a half-open connection) can no longer mark or send. `expires_at` is set from
 * the database's clock only, so the relays' clocks never matter. The row exists from the start
 * (expired, epoch 0), so taking the lease is always an UPDATE that one relay alone can win.
 * The application role's rights come from the default privileges (migration 0).
 */
export class RelayLease1763900000050 implements MigrationInterface {
  name = 'RelayLease1763900000050';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE relay_lease (
        name text PRIMARY KEY CONSTRAINT relay_lease_name_check CHECK (name = 'outbox'),
        epoch bigint NOT NULL,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`INSERT INTO relay_lease (name, epoch, holder, expires_at) VALUES ('outbox', 0, 'nobody', '-infinity')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE relay_lease');
  }
}
