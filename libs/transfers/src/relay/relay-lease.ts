import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { EntityManager } from 'typeorm';

/**
 * The outbox publisher's lease (table `relay_lease`, one row): the relay holding it, under which
 * epoch, until when. Every time is the database's (`clock_timestamp()`), so no relay's clock
 * matters; `clock_timestamp()` rather than `now()`, which is frozen at the start of a transaction.
 *
 * - Taking it succeeds only when it is expired (or was released), and moves the epoch on: two
 *   relays racing for it run the same UPDATE on one row, and one of them finds nothing to update.
 * - Renewing it succeeds only under the holder's own epoch and before it expired: a relay that
 *   was paused past its lease is deposed even if nobody took the lease in between, so the batch it
 *   had read before the pause is never sent.
 * - The fence: the marking transaction locks the row FOR SHARE under the holder's epoch before it
 *   writes. A takeover (an UPDATE of that row) waits for the marking to commit, and a marking that
 *   starts after a takeover finds no row: marks are never made under an epoch that was replaced.
 */
export class RelayLease {
  /** The epoch this relay holds, while it holds one. */
  private held?: string;

  constructor(
    /** Who asks: host, process id and a random part, unique per relay instance (the row shows it to operators). */
    readonly holder: string,
    readonly seconds: number,
  ) {}

  static holderName(): string {
    return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  get epoch(): string | undefined {
    return this.held;
  }

  /**
   * Takes the lease when it is free or expired (for `expiredForSeconds` at least); returns the new
   * epoch, or undefined when another relay holds it.
   */
  async take(client: LeaseConnection, expiredForSeconds = 0): Promise<string | undefined> {
    const { rows } = await client.query<{ epoch: string }>({
      text: `UPDATE relay_lease SET epoch = epoch + 1, holder = $1, expires_at = clock_timestamp() + make_interval(secs => $2)
              WHERE name = 'outbox' AND expires_at <= clock_timestamp() - make_interval(secs => $3)
          RETURNING epoch::text AS epoch`,
      values: [this.holder, this.seconds, expiredForSeconds],
      query_timeout: this.answerWithinMs,
    });
    this.held = rows[0]?.epoch;
    return this.held;
  }

  /** Extends the lease; false when it was taken over or had expired (the holder is deposed). */
  async renew(client: LeaseConnection): Promise<boolean> {
    if (this.held === undefined) return false;
    const { rows } = await client.query({
      text: `UPDATE relay_lease SET expires_at = clock_timestamp() + make_interval(secs => $2)
              WHERE name = 'outbox' AND epoch = $1 AND expires_at > clock_timestamp()
          RETURNING epoch`,
      values: [this.held, this.seconds],
      query_timeout: this.answerWithinMs,
    });
    if (rows.length === 0) this.held = undefined;
    return rows.length === 1;
  }

  /** Ends the lease at once (a graceful stop), so a standby need not wait for it to expire. */
  async release(client: LeaseConnection): Promise<void> {
    const epoch = this.held;
    this.held = undefined;
    if (epoch === undefined) return;
    await client.query({
      text: `UPDATE relay_lease SET expires_at = clock_timestamp() WHERE name = 'outbox' AND epoch = $1 AND expires_at > clock_timestamp()`,
      values: [epoch],
      query_timeout: this.answerWithinMs,
    });
  }

  /** Forgets the epoch without asking the database (its connection is gone, or it was deposed). */
  forget(): void {
    this.held = undefined;
  }

  /**
   * The fence, first in a transaction that writes as the leader: locks the lease row under
   * `epoch` (the one the batch was read and sent under), or throws LeaseLost. Until that
   * transaction ends, no other relay can take the lease.
   */
  async fence(em: EntityManager, epoch: string): Promise<void> {
    const rows: unknown[] = await em.query(`SELECT epoch FROM relay_lease WHERE name = 'outbox' AND epoch = $1 AND expires_at > clock_timestamp() FOR SHARE`, [
      epoch,
    ]);
    if (rows.length === 0) {
      if (this.held === epoch) this.held = undefined;
      throw new LeaseLost(`the outbox lease of epoch ${epoch} was taken over or has expired`);
    }
  }

  /** A lease statement not answered within a third of the lease cannot keep it alive anyway. */
  private get answerWithinMs(): number {
    return Math.ceil((this.seconds * 1000) / 3);
  }
}

/**
 * The relay's own connection, on which the lease is taken, renewed and released (a `pg.Client`);
 * pg reads a query's own `query_timeout` though its types do not name it.
 */
export interface LeaseConnection {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(config: pg.QueryConfig & { query_timeout?: number }): Promise<pg.QueryResult<R>>;
}

/** This relay no longer holds the outbox lease: it must stop publishing at once. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}
