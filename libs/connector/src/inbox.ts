import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** What the recipient's system made of a request: its reference, or why it said no. */
export type Outcome = { readonly state: 'completed'; readonly reference: string } | { readonly state: 'rejected'; readonly reason: string };

/** One request the inbox holds, as an operator or a test reads it back. */
export interface InboxEntry {
  readonly requestId: string;
  readonly outcome: Outcome;
  /** The send the outcome answered: the correlation id of the request event it came in (null when it carried none). */
  readonly send: string | null;
  /** Deliveries after the first: each was skipped, its status sent again. */
  readonly redeliveries: number;
  readonly processedAt: string;
}

interface InboxRow {
  request_id: string;
  outcome: 'completed' | 'rejected';
  reference: string | null;
  reason: string | null;
  send: string | null;
  redeliveries: number;
  processed_at: string;
}

const outcomeOf = (row: Pick<InboxRow, 'outcome' | 'reference' | 'reason'>): Outcome =>
  row.outcome === 'completed' ? { state: 'completed', reference: row.reference ?? '' } : { state: 'rejected', reason: row.reason ?? 'rejected' };

/**
 * A connector's inbox: the requests its recipient's system has applied, with the outcome, in a
 * SQLite file of the connector's own (node:sqlite, built into Node) — never datarun's database,
 * which a recipient does not reach. Written after the work and before the offset is committed, so
 * a redelivery finds its request here and is skipped.
 *
 * `completed` is final: any later delivery of the request is skipped (exactly once in the system).
 * `rejected` answers one send only: the request's case may fix the cause (a closed account
 * reopened) and send it again (POST /v1/cases/{id}/transfers/{requestId}/resend), same request id,
 * and that resend must reach the system again rather than be answered `rejected` for ever. A send
 * is told by the event's correlation id, which a resend replaces (it is the resend's own) while a
 * redelivery of the same send (Kafka after a crash, the relay publishing a row again, a dead-letter
 * replay) keeps it: only the latter is skipped.
 *
 * WAL with `synchronous = FULL`: a recorded outcome is on disk before the offset that covers it
 * is committed, and a reader (an operator, a test) can look while the connector writes.
 */
export class ConnectorInbox {
  private readonly db: DatabaseSync;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    this.db = new DatabaseSync(path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS inbox (
        request_id   TEXT PRIMARY KEY,
        outcome      TEXT NOT NULL CHECK (outcome IN ('completed', 'rejected')),
        reference    TEXT,
        reason       TEXT,
        send         TEXT,
        redeliveries INTEGER NOT NULL DEFAULT 0,
        processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
    `);
    // An inbox written before sends were told apart: its outcomes answer no known send, so a
    // `rejected` one is tried again on its next delivery (the system is idempotent by request id).
    const columns = this.db.prepare('SELECT name FROM pragma_table_info(?)').all('inbox') as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'send')) this.db.exec('ALTER TABLE inbox ADD COLUMN send TEXT');
  }

  /**
   * The outcome that answers this delivery of `requestId` (`send`: its correlation id), counting it
   * as a redelivery; undefined for a request not seen yet, or rejected in answer to another send.
   */
  redelivered(requestId: string, send: string | null): Outcome | undefined {
    const row = this.db
      .prepare(
        `UPDATE inbox SET redeliveries = redeliveries + 1 WHERE request_id = ? AND (outcome = 'completed' OR send IS ?)
         RETURNING outcome, reference, reason`,
      )
      .get(requestId, send) as Pick<InboxRow, 'outcome' | 'reference' | 'reason'> | undefined;
    return row ? outcomeOf(row) : undefined;
  }

  /**
   * Records what the system made of `requestId` in answer to `send`. A `completed` request keeps its
   * outcome (a crash between recording and committing records it twice); a `rejected` one takes the
   * outcome of the newer send.
   */
  record(requestId: string, outcome: Outcome, send: string | null): void {
    this.db
      .prepare(
        `INSERT INTO inbox (request_id, outcome, reference, reason, send) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (request_id) DO UPDATE SET outcome = excluded.outcome, reference = excluded.reference, reason = excluded.reason,
           send = excluded.send, redeliveries = 0, processed_at = excluded.processed_at
         WHERE inbox.outcome = 'rejected'`,
      )
      .run(
        requestId,
        outcome.state,
        outcome.state === 'completed' ? outcome.reference : null,
        outcome.state === 'rejected' ? outcome.reason.slice(0, 1000) : null,
        send,
      );
  }

  entry(requestId: string): InboxEntry | undefined {
    const row = this.db.prepare('SELECT * FROM inbox WHERE request_id = ?').get(requestId) as InboxRow | undefined;
    return row ? entryOf(row) : undefined;
  }

  /** Every request recorded, oldest first. */
  entries(): InboxEntry[] {
    return (this.db.prepare('SELECT * FROM inbox ORDER BY processed_at, request_id').all() as unknown as InboxRow[]).map(entryOf);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}

const entryOf = (row: InboxRow): InboxEntry => ({
  requestId: row.request_id,
  outcome: outcomeOf(row),
  send: row.send,
  redeliveries: row.redeliveries,
  processedAt: row.processed_at,
});
