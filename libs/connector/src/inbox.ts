import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * What became of a request: its system's reference, why the system said no, or why it never reached
 * the system (a newer request for the same property or account was applied first).
 */
export type Outcome = { readonly state: 'completed'; readonly reference: string } | { readonly state: 'rejected' | 'superseded'; readonly reason: string };

/** Where a request stands in its property's (or account's) order: the key and the sequence datarun gave it. */
export interface RequestOrder {
  readonly key: string;
  readonly sequence: number;
}

/** The newest request applied for one order key. */
export interface OrderMark {
  readonly sequence: number;
  readonly requestId: string;
}

/**
 * The request message a connector keeps while it retries: byte for byte what Kafka delivered, so a
 * retry, a resume or a dead letter works on the original.
 */
export interface HeldMessage {
  readonly topic: string;
  readonly key: Buffer | null;
  readonly value: Buffer;
  readonly headers: Record<string, Buffer>;
}

/** A request that failed for a reason that may pass: retried on its own schedule, parked once its budget is spent. */
export interface DeferredRequest {
  readonly requestId: string;
  readonly send: string | null;
  readonly message: HeldMessage;
  /** Failed tries so far. */
  readonly attempts: number;
  readonly firstFailedAt: Date;
  readonly nextAttemptAt: Date;
  readonly lastError: string;
  /** Set once the retry budget was spent: no more tries until an operator resumes it. */
  readonly parkedAt: Date | null;
}

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
  outcome: Outcome['state'];
  reference: string | null;
  reason: string | null;
  send: string | null;
  redeliveries: number;
  processed_at: string;
}

interface DeferredRow {
  request_id: string;
  send: string | null;
  topic: string;
  message_key: Uint8Array | null;
  message_value: Uint8Array;
  headers: string;
  attempts: number;
  first_failed_at: number;
  next_attempt_at: number;
  last_error: string;
  parked_at: number | null;
}

const outcomeOf = (row: Pick<InboxRow, 'outcome' | 'reference' | 'reason'>): Outcome =>
  row.outcome === 'completed' ? { state: 'completed', reference: row.reference ?? '' } : { state: row.outcome, reason: row.reason ?? row.outcome };

const INBOX_TABLE = `
  CREATE TABLE inbox (
    request_id   TEXT PRIMARY KEY,
    outcome      TEXT NOT NULL CHECK (outcome IN ('completed', 'rejected', 'superseded')),
    reference    TEXT,
    reason       TEXT,
    send         TEXT,
    redeliveries INTEGER NOT NULL DEFAULT 0,
    processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  ) STRICT`;

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
 * Beside the outcomes, the requests set aside to be retried (`deferred`, byte for byte as Kafka
 * delivered them, with their tries and next try; parked ones wait for `datarun connector resume`)
 * and, per property or account, the newest request applied (`order_mark`).
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
    `);
    this.migrate();
  }

  /**
   * Brings an inbox file of an earlier connector up to date, in one transaction: the send column
   * (an outcome recorded before sends were told apart answers no known send, so a `rejected` one is
   * tried again on its next delivery; the system is idempotent by request id), the `superseded`
   * outcome (SQLite cannot change a CHECK in place: the table is copied), the deferred requests
   * and the order marks.
   */
  private migrate(): void {
    this.transaction(() => {
      const table = this.db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'inbox'`).get() as { sql: string } | undefined;
      if (!table) this.db.exec(INBOX_TABLE);
      else if (!table.sql.includes('superseded')) {
        const columns = this.db.prepare('SELECT name FROM pragma_table_info(?)').all('inbox') as Array<{ name: string }>;
        const send = columns.some((c) => c.name === 'send') ? 'send' : 'NULL';
        this.db.exec(`ALTER TABLE inbox RENAME TO inbox_before;
          ${INBOX_TABLE};
          INSERT INTO inbox (request_id, outcome, reference, reason, send, redeliveries, processed_at)
            SELECT request_id, outcome, reference, reason, ${send}, redeliveries, processed_at FROM inbox_before;
          DROP TABLE inbox_before;`);
      }
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS deferred (
          request_id      TEXT PRIMARY KEY,
          send            TEXT,
          topic           TEXT NOT NULL,
          message_key     BLOB,
          message_value   BLOB NOT NULL,
          headers         TEXT NOT NULL,
          attempts        INTEGER NOT NULL,
          first_failed_at INTEGER NOT NULL,
          next_attempt_at INTEGER NOT NULL,
          last_error      TEXT NOT NULL,
          parked_at       INTEGER
        ) STRICT;
        CREATE INDEX IF NOT EXISTS deferred_due ON deferred (next_attempt_at) WHERE parked_at IS NULL;
        CREATE TABLE IF NOT EXISTS order_mark (
          order_key  TEXT PRIMARY KEY,
          sequence   INTEGER NOT NULL,
          request_id TEXT NOT NULL
        ) STRICT;
      `);
    });
  }

  private transaction<T>(work: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
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
   * Records what became of `requestId` in answer to `send`, and forgets any retry of it. A
   * `completed` request keeps its outcome (a crash between recording and committing records it
   * twice); a `rejected` or `superseded` one takes the outcome of the newer send. A completed
   * request with an order becomes its key's mark, unless a newer one already is.
   */
  record(requestId: string, outcome: Outcome, send: string | null, order?: RequestOrder): void {
    this.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO inbox (request_id, outcome, reference, reason, send) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (request_id) DO UPDATE SET outcome = excluded.outcome, reference = excluded.reference, reason = excluded.reason,
             send = excluded.send, redeliveries = 0, processed_at = excluded.processed_at
           WHERE inbox.outcome <> 'completed'`,
        )
        .run(
          requestId,
          outcome.state,
          outcome.state === 'completed' ? outcome.reference : null,
          outcome.state === 'completed' ? null : outcome.reason.slice(0, 1000),
          send,
        );
      this.db.prepare('DELETE FROM deferred WHERE request_id = ?').run(requestId);
      if (order && outcome.state === 'completed') {
        this.db
          .prepare(
            `INSERT INTO order_mark (order_key, sequence, request_id) VALUES (?, ?, ?)
             ON CONFLICT (order_key) DO UPDATE SET sequence = excluded.sequence, request_id = excluded.request_id
             WHERE excluded.sequence > order_mark.sequence`,
          )
          .run(order.key, order.sequence, requestId);
      }
    });
  }

  /** The newest request applied for an order key (a property, an account), if any. */
  orderMark(key: string): OrderMark | undefined {
    const row = this.db.prepare('SELECT sequence, request_id FROM order_mark WHERE order_key = ?').get(key) as
      { sequence: number; request_id: string } | undefined;
    return row && { sequence: row.sequence, requestId: row.request_id };
  }

  /**
   * Keeps a request that failed for a reason that may pass, to be tried again at `nextAttemptAt`:
   * its first failure, or one more of the same send. Another send of it (a resend from its case)
   * starts its count and budget again with the newer message.
   */
  defer(requestId: string, send: string | null, message: HeldMessage, error: string, nextAttemptAt: Date, now = new Date()): DeferredRequest {
    this.db
      .prepare(
        `INSERT INTO deferred (request_id, send, topic, message_key, message_value, headers, attempts, first_failed_at, next_attempt_at, last_error)
         VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
         ON CONFLICT (request_id) DO UPDATE SET
           attempts = CASE WHEN deferred.send IS excluded.send THEN deferred.attempts + 1 ELSE 1 END,
           first_failed_at = CASE WHEN deferred.send IS excluded.send THEN deferred.first_failed_at ELSE excluded.first_failed_at END,
           send = excluded.send, topic = excluded.topic, message_key = excluded.message_key, message_value = excluded.message_value,
           headers = excluded.headers, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, parked_at = NULL`,
      )
      .run(
        requestId,
        send,
        message.topic,
        message.key,
        message.value,
        JSON.stringify(Object.fromEntries(Object.entries(message.headers).map(([name, value]) => [name, value.toString('base64')]))),
        now.getTime(),
        nextAttemptAt.getTime(),
        error.slice(0, 2000),
      );
    return this.deferred(requestId)!;
  }

  /** Gives up retrying a request until an operator resumes it (its budget is spent). */
  park(requestId: string, error: string, now = new Date()): void {
    this.db
      .prepare('UPDATE deferred SET parked_at = ?, last_error = ?, attempts = attempts + 1 WHERE request_id = ?')
      .run(now.getTime(), error.slice(0, 2000), requestId);
  }

  /** Moves a try that could not run (the broker was away) later, without counting it against the budget. */
  postpone(requestId: string, nextAttemptAt: Date): void {
    this.db.prepare('UPDATE deferred SET next_attempt_at = ? WHERE request_id = ?').run(nextAttemptAt.getTime(), requestId);
  }

  /**
   * Parked requests (one, or all without an id) are tried again at once with a fresh budget;
   * the ids resumed.
   */
  resume(requestId?: string, now = new Date()): string[] {
    const rows = this.db
      .prepare(
        `UPDATE deferred SET parked_at = NULL, attempts = 0, first_failed_at = ?, next_attempt_at = ?
          WHERE parked_at IS NOT NULL AND (? IS NULL OR request_id = ?) RETURNING request_id`,
      )
      .all(now.getTime(), now.getTime(), requestId ?? null, requestId ?? null) as Array<{ request_id: string }>;
    return rows.map((r) => r.request_id);
  }

  /** The deferred request of that id, retrying or parked. */
  deferred(requestId: string): DeferredRequest | undefined {
    const row = this.db.prepare('SELECT * FROM deferred WHERE request_id = ?').get(requestId) as DeferredRow | undefined;
    return row && deferredOf(row);
  }

  /** Whether this delivery is of a request already held for retry under the same send (a replay, a redelivery): nothing to do. */
  holds(requestId: string, send: string | null): boolean {
    return this.db.prepare('SELECT 1 FROM deferred WHERE request_id = ? AND send IS ?').get(requestId, send) !== undefined;
  }

  /** Retrying requests whose next try is due, soonest first. */
  due(now = new Date(), limit = 20): DeferredRequest[] {
    return (
      this.db
        .prepare('SELECT * FROM deferred WHERE parked_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?')
        .all(now.getTime(), limit) as unknown as DeferredRow[]
    ).map(deferredOf);
  }

  /** Every deferred request (retrying and parked), parked first, then by next try. */
  deferredRequests(): DeferredRequest[] {
    return (this.db.prepare('SELECT * FROM deferred ORDER BY parked_at IS NULL, parked_at, next_attempt_at').all() as unknown as DeferredRow[]).map(deferredOf);
  }

  /** How many requests are retrying and how many parked (the connector's metrics). */
  deferredCounts(): { retrying: number; parked: number } {
    const row = this.db
      .prepare('SELECT count(*) FILTER (WHERE parked_at IS NULL) AS retrying, count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked FROM deferred')
      .get() as { retrying: number; parked: number };
    return { retrying: row.retrying, parked: row.parked };
  }

  /** Forgets a deferred request that was settled another way (dead-lettered as poison). */
  settle(requestId: string): void {
    this.db.prepare('DELETE FROM deferred WHERE request_id = ?').run(requestId);
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

const deferredOf = (row: DeferredRow): DeferredRequest => ({
  requestId: row.request_id,
  send: row.send,
  message: {
    topic: row.topic,
    key: row.message_key === null ? null : Buffer.from(row.message_key),
    value: Buffer.from(row.message_value),
    headers: Object.fromEntries(Object.entries(JSON.parse(row.headers) as Record<string, string>).map(([name, value]) => [name, Buffer.from(value, 'base64')])),
  },
  attempts: row.attempts,
  firstFailedAt: new Date(row.first_failed_at),
  nextAttemptAt: new Date(row.next_attempt_at),
  lastError: row.last_error,
  parkedAt: row.parked_at === null ? null : new Date(row.parked_at),
});

const entryOf = (row: InboxRow): InboxEntry => ({
  requestId: row.request_id,
  outcome: outcomeOf(row),
  send: row.send,
  redeliveries: row.redeliveries,
  processedAt: row.processed_at,
});
