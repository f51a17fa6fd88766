import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** What the recipient's system made of a request: its reference, or why it said no. */
export type Outcome = { readonly state: 'completed'; readonly reference: string } | { readonly state: 'rejected'; readonly reason: string };

/** One request the inbox holds, as an operator or a test reads it back. */
export interface InboxEntry {
  readonly requestId: string;
  readonly outcome: Outcome;
  /** Deliveries after the first: each was skipped, its status sent again. */
  readonly redeliveries: number;
  readonly processedAt: string;
}

interface InboxRow {
  request_id: string;
  outcome: 'completed' | 'rejected';
  reference: string | null;
  reason: string | null;
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
        redeliveries INTEGER NOT NULL DEFAULT 0,
        processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
      ) STRICT;
    `);
  }

  /** The outcome recorded for `requestId`, counting this delivery as a redelivery; undefined for a request not seen yet. */
  redelivered(requestId: string): Outcome | undefined {
    const row = this.db.prepare('UPDATE inbox SET redeliveries = redeliveries + 1 WHERE request_id = ? RETURNING outcome, reference, reason').get(requestId) as
      Pick<InboxRow, 'outcome' | 'reference' | 'reason'> | undefined;
    return row ? outcomeOf(row) : undefined;
  }

  /** Records what the system made of `requestId`; a request already recorded keeps its first outcome. */
  record(requestId: string, outcome: Outcome): void {
    this.db
      .prepare('INSERT INTO inbox (request_id, outcome, reference, reason) VALUES (?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING')
      .run(
        requestId,
        outcome.state,
        outcome.state === 'completed' ? outcome.reference : null,
        outcome.state === 'rejected' ? outcome.reason.slice(0, 1000) : null,
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
  redeliveries: row.redeliveries,
  processedAt: row.processed_at,
});
