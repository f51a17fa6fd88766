import { randomUUID } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { Injectable, Logger } from '@nestjs/common';
import { poolOf, type PreparedStatement } from '@datarun/db';
import type { Metrics } from '@datarun/metrics';
import { RequestContext } from '@datarun/request-context';
import type pg from 'pg';
import type { Histogram } from 'prom-client';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditDecision } from './audit-event.entity.js';
import { type AuditRecordContent, chainLink, MerkleFrontier, recordBytes } from './integrity/index.js';

export interface AuditEventInput {
  readonly memberId: string;
  readonly actor: string;
  readonly action: string;
  readonly decision: AuditDecision;
  readonly sourceId?: string;
  /** Already pseudonymised (SubjectPseudonyms). */
  readonly subjectHash?: string;
  readonly purpose?: string;
  readonly caseId?: string;
  /** What a change is about, e.g. `grant:<id>`. */
  readonly object?: string;
  readonly fields?: readonly string[];
  readonly reason?: string;
  readonly latencyMs?: number;
  /**
   * The id that follows the work across systems. Left out, it is the request context's (the HTTP
   * request or consumed message being handled): what the relay's batches of many requests set.
   */
  readonly correlationId?: string;
  /**
   * When it happened; only imports and tests set it. Everything else takes the database's clock
   * (read under the chain head's lock, or this process's clock tied to it and checked against it
   * by the append), so that time order and seq order agree across writers.
   */
  readonly at?: Date;
}

/** The audit event of a change (registry, case) made by `caller`, about `object`. */
export function changeBy(caller: { memberId: string; actor: string }, action: string, object: string, extra: Partial<AuditEventInput> = {}): AuditEventInput {
  return { memberId: caller.memberId, actor: caller.actor, action, decision: 'allowed', object, ...extra };
}

interface Pending {
  readonly id: string;
  /** Set only when the event names its time (imports, tests); otherwise the chain lock's time. */
  readonly at?: Date;
  readonly event: AuditEventInput;
  readonly resolve: (id: string) => void;
  readonly reject: (error: unknown) => void;
}

export interface AuditLogOptions {
  /** Longest wait for the chain head's lock and for each statement of an append (AUDIT_APPEND_TIMEOUT_MS). */
  readonly appendTimeoutMs?: number;
  /** Where `datarun_audit_append_seconds` goes (apps without metrics, e.g. the CLI, leave it out). */
  readonly metrics?: Metrics;
  /** This process's clock in milliseconds (`Date.now`); tests set one that is off. */
  readonly clock?: () => number;
}

export const DEFAULT_APPEND_TIMEOUT_MS = 3000;
/**
 * How much longer than the server's own timeouts the client waits for an answer: long enough that
 * a lock or statement timeout arrives as PostgreSQL's error, short enough that a database that
 * stops answering altogether still fails the append within seconds.
 */
const CLIENT_GRACE_MS = 1000;
const MAX_BATCH = 1000;
/**
 * After another writer moved the chain's head under a one-round-trip append, this many appends
 * take the lock first: with writers in several processes (gateway workers, the relay) most
 * attempts would find the head moved and pay a round trip for nothing.
 */
const LOCKED_AFTER_MOVED = 16;
const COLUMNS = [
  'seq',
  'id',
  'at',
  'member_id',
  'actor',
  'action',
  'source_id',
  'subject_hash',
  'purpose',
  'case_id',
  'object_ref',
  'fields',
  'decision',
  'reason',
  'latency_ms',
  'correlation_id',
  'canonical',
  'chain_hash',
];
const TYPES = [
  'int8',
  'uuid',
  'timestamptz',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'uuid',
  'text',
  'text',
  'text',
  'text',
  'int4',
  'text',
  'bytea',
  'bytea',
];
// `fields` travels as a JSON array per row (unnest cannot take an array of arrays).
const INSERT = `INSERT INTO audit_event (${COLUMNS.join(', ')})
  SELECT seq, id, at, member_id, actor, action, source_id, subject_hash, purpose, case_id, object_ref,
         ARRAY(SELECT jsonb_array_elements_text(fields::jsonb)), decision, reason, latency_ms, correlation_id, canonical, chain_hash
  FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
    AS t(${COLUMNS.join(', ')})`;

/** The chain's last record as an append left it: what the next one chains from. */
interface ChainEnd {
  readonly seq: number;
  readonly chainHash: Buffer;
  /** Mutable: the next append adds its leaves to it (a copy when it came from the database). */
  readonly frontier: MerkleFrontier;
  /** The time the append gave its records (milliseconds since the epoch). */
  readonly atMs: number;
}

interface ChainedEvent {
  readonly pending: Pending;
  readonly content: AuditRecordContent;
  readonly bytes: Buffer;
  readonly chainHash: Buffer;
}

/**
 * Appends audit events to the hash chain with group commit: events from concurrent requests wait
 * at most one flush and go to PostgreSQL in one transaction, which locks the chain's head row
 * (serialising writers across replicas, so sequence numbers are contiguous and commit in order),
 * computes each event's canonical bytes, chain hash and Merkle leaf, inserts them in one statement
 * and moves the head. Each caller's promise settles only when its event is committed, so no
 * audited answer leaves before its record exists. A failed write rejects every caller of that
 * batch with AUDIT_UNAVAILABLE: fail closed.
 *
 * Most appends take one round trip. The appender remembers the chain's end as it left it (seq,
 * chain hash, Merkle frontier, time) and chains the next batch after it, timed by its own clock
 * tied to the database's; one auto-commit statement then locks the head (NOWAIT) only if it is
 * still that end and the batch's time is not ahead of the database's clock, inserts the batch and
 * moves the head, or does nothing. So a writer in another process (or `appendWithin`) that moved
 * the head, a head locked by one, or a clock that ran ahead makes that statement a no-op, and the
 * batch goes the locked way: BEGIN with the head's lock, the time read under it, then the insert
 * and COMMIT. Either way every writer's records are in seq order and in time order, the time of
 * one not ahead of the database's clock when the next writer locks.
 *
 * An append cannot hang: the locked way waits at most `appendTimeoutMs` for the chain head's lock
 * and for each statement (lock_timeout, statement_timeout), the one-round-trip way never waits for
 * the lock, and the client gives up on a database that stops answering shortly after; either way
 * the callers get AUDIT_UNAVAILABLE within seconds instead of holding their requests (and the
 * pool's connections) for as long as the fault lasts.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('AuditLog');
  private queue: Pending[] = [];
  private flushing = false;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  private readonly appendSeconds?: Histogram<'way'>;
  /** The chain's end as this appender's last append left it; unset after a failure or a refusal. */
  private end?: ChainEnd;
  /** The database's clock minus this process's, as measured (a lower bound: see `learnClock`). */
  private clockOffsetMs = 0;
  /** Appends left that take the lock first (LOCKED_AFTER_MOVED). */
  private lockedToGo = 0;

  constructor(
    private readonly dataSource: DataSource,
    options: AuditLogOptions = {},
  ) {
    this.timeoutMs = options.appendTimeoutMs ?? DEFAULT_APPEND_TIMEOUT_MS;
    this.clock = options.clock ?? Date.now;
    this.appendSeconds = options.metrics?.histogram({
      name: 'datarun_audit_append_seconds',
      help: 'Audit appends (group commits) by way: one-trip (one statement), locked (the head locked first), failed',
      labelNames: ['way'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5],
    });
  }

  append(event: AuditEventInput): Promise<string> {
    // Read now: the flush runs later, in the context of whichever request started it.
    const correlated = withCorrelation(event);
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ id: randomUUID(), at: event.at, event: correlated, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * Appends inside the caller's transaction, for changes (registry, cases) that must be recorded
   * atomically with what they record: both commit or neither. Holds the chain head's row lock
   * until that transaction ends, so keep such transactions short.
   */
  async appendWithin(em: EntityManager, event: AuditEventInput): Promise<string> {
    const [id] = await this.appendAllWithin(em, [event]);
    return id;
  }

  /** Several events of one change (e.g. a relay batch) in the caller's transaction, with one chain lock. */
  async appendAllWithin(em: EntityManager, events: readonly AuditEventInput[]): Promise<string[]> {
    if (events.length === 0) return [];
    const batch: Pending[] = events.map((event) => ({
      id: randomUUID(),
      at: event.at,
      event: withCorrelation(event),
      resolve: () => undefined,
      reject: () => undefined,
    }));
    try {
      // The caller's transaction goes on after the append: its own timeouts come back afterwards.
      const [previous] = (await em.query(
        `SELECT s.lock_timeout, s.statement_timeout, set_config('lock_timeout', $1, true), set_config('statement_timeout', $1, true)
         FROM (SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout OFFSET 0) s`,
        [`${this.timeoutMs}ms`],
      )) as Array<{ lock_timeout: string; statement_timeout: string }>;
      await writeChained((statement, values) => em.query(statement.text, values), batch);
      await em.query(`SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)`, [
        previous.lock_timeout,
        previous.statement_timeout,
      ]);
    } catch (error) {
      this.logger.error(`cannot append ${batch.length} audit event(s) within a change: ${(error as Error).message}`);
      throw new Problem('AUDIT_UNAVAILABLE', 'the change could not be recorded in the audit log, so it was not made');
    }
    return batch.map((p) => p.id);
  }

  /**
   * One batch, in one round trip when it can (see the class), each statement with a deadline.
   * Throws AppendFailed, which says whether the connection is still fit for the next batch.
   */
  private async flushOne(client: pg.PoolClient, batch: readonly Pending[]): Promise<void> {
    const answerWithin = this.timeoutMs + CLIENT_GRACE_MS;
    // pg's per-query read timeout (not in its QueryConfig type).
    const query: Query = (config) =>
      client.query({ ...config, query_timeout: answerWithin } as unknown as pg.QueryConfig) as unknown as Promise<pg.QueryResult | pg.QueryResult[]>;
    const started = performance.now();
    const end = this.end;
    this.end = undefined; // until an append says where the chain ends
    try {
      let way: 'one-trip' | 'locked' = 'one-trip';
      if (!end || this.lockedToGo > 0 || !(await this.appendAtEnd(query, end, batch))) {
        way = 'locked';
        await this.appendLocked(query, batch);
      }
      this.appendSeconds?.observe({ way }, (performance.now() - started) / 1000);
    } catch (error) {
      this.appendSeconds?.observe({ way: 'failed' }, (performance.now() - started) / 1000);
      // A connection that did not answer in time is in an unknown state: drop it (the server rolls
      // back when it goes) rather than wait for a ROLLBACK that may not be answered either.
      const rolledBack =
        !isReadTimeout(error) &&
        (await query({ text: 'ROLLBACK' }).then(
          () => true,
          () => false,
        ));
      throw new AppendFailed(error as Error, !rolledBack);
    }
  }

  /**
   * The batch after `end`, this appender's own last append, in one auto-commit statement: true
   * when it was written, false when the statement found the head moved, locked or behind the
   * batch's time, or failed in any way the locked append may not (the locked append decides).
   * Throws only when the database did not answer in time.
   */
  private async appendAtEnd(query: Query, end: ChainEnd, batch: readonly Pending[]): Promise<boolean> {
    const atMs = Math.max(this.clock() + this.clockOffsetMs, end.atMs);
    const chained = chainAfter(end, batch, atMs);
    let written: pg.QueryResult;
    try {
      // The deadline is in the database's time (atMs is not ahead of it) and a second before the
      // client gives up, as the locked append's statement_timeout is.
      const deadlineMs = atMs + this.timeoutMs;
      written = (await query({ ...APPEND_AT_END, values: [...chained.values, end.seq, end.chainHash, atMs, deadlineMs] })) as pg.QueryResult;
    } catch (error) {
      if (isReadTimeout(error)) throw error;
      this.logger.debug(`a one-round-trip append was refused, the locked append follows: ${(error as Error).message}`);
      written = { rowCount: 0 } as pg.QueryResult;
    }
    if (written.rowCount !== 1) {
      this.lockedToGo = LOCKED_AFTER_MOVED;
      return false;
    }
    this.learnClock(Number((written.rows[0] as { now_ms: string }).now_ms), false);
    this.end = chained.end;
    return true;
  }

  /**
   * The batch after the head, locked first: two round trips, each with as little of this
   * process's event loop in it as can be. The transaction's start, its timeouts and the locked
   * head go in one message (PostgreSQL answers every statement of it at once), and the append and
   * its COMMIT are queued together, so node-postgres sends the COMMIT the moment the append is
   * answered. A COMMIT after a failed append ends the aborted transaction (PostgreSQL answers it
   * with a rollback); the append's own error is what the callers get. The timeouts are whole
   * milliseconds from the validated config.
   */
  private async appendLocked(query: Query, batch: readonly Pending[]): Promise<void> {
    const opened = (await query({
      text: `BEGIN; SET LOCAL lock_timeout = ${this.timeoutMs}; SET LOCAL statement_timeout = ${this.timeoutMs}; ${READ_HEAD.text}`,
    })) as pg.QueryResult[];
    const head = headOf(opened[opened.length - 1].rows);
    this.learnClock(head.atMs, true);
    const chained = chainAfter(head, batch, head.atMs);
    await Promise.all([query({ ...APPEND, values: chained.values }), query({ text: 'COMMIT' })]);
    this.end = chained.end;
    if (this.lockedToGo > 0) this.lockedToGo -= 1;
  }

  /**
   * Ties this process's clock to the database's with a reading of the database's (`databaseMs`)
   * taken before this process's clock is read here: the difference is at most the true offset, so
   * a time from `clock() + offset` is never ahead of the database's by our own measure. The locked
   * append's reading replaces the offset (the one-round-trip append may have been refused for a
   * clock that ran ahead); each one-round-trip append's can only tighten it.
   */
  private learnClock(databaseMs: number, replace: boolean): void {
    const sample = databaseMs - this.clock();
    this.clockOffsetMs = replace ? sample : Math.max(this.clockOffsetMs, sample);
  }

  private async flush(): Promise<void> {
    // One pooled connection for as long as events keep coming: appends go one at a time anyway,
    // and taking a connection from the busy pool for each batch was about 1.3 ms of a 10 ms append
    // at 2,700 lookups a second (the appends, one after another, are what bound the lookup rate).
    let client: pg.PoolClient | undefined;
    // pg-pool stops listening to a client's errors while it is lent out: a connection the server
    // ends between two batches would otherwise be an uncaught 'error' that ends the process. The
    // query under way (if any) fails on its own; the next batch takes another connection.
    const onError = (error: Error) => this.logger.warn(`the audit append's connection failed: ${error.message}`);
    const letGo = (drop: boolean) => {
      client?.removeListener('error', onError);
      client?.release(drop);
      client = undefined;
    };
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          if (!client) {
            client = await connectWithin(poolOf(this.dataSource), this.timeoutMs + CLIENT_GRACE_MS);
            client.on('error', onError);
          }
          await this.flushOne(client, batch);
          for (const p of batch) p.resolve(p.id);
        } catch (error) {
          if (error instanceof AppendFailed && error.dropConnection) letGo(true);
          const cause = error instanceof AppendFailed ? error.cause : (error as Error);
          this.logger.error(`cannot append ${batch.length} audit event(s): ${cause.message}`);
          const unavailable = new Problem('AUDIT_UNAVAILABLE', 'the access could not be recorded in the audit log, so nothing is released');
          for (const p of batch) p.reject(unavailable);
        }
      }
    } finally {
      this.flushing = false;
      letGo(false);
    }
  }
}

/** An append that failed; `dropConnection` when its connection cannot be trusted with another. */
class AppendFailed extends Error {
  constructor(
    override readonly cause: Error,
    readonly dropConnection: boolean,
  ) {
    super(cause.message, { cause });
  }
}

/** The event with the request context's correlation id when it names none itself. */
function withCorrelation(event: AuditEventInput): AuditEventInput {
  if (event.correlationId !== undefined) return event;
  const correlationId = RequestContext.correlationId();
  return correlationId === undefined ? event : { ...event, correlationId };
}

/** A pooled connection, or an error once `ms` have passed (a connection that comes later goes back). */
async function connectWithin(pool: pg.Pool, ms: number): Promise<pg.PoolClient> {
  const connecting = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no database connection within ${ms} ms`)), ms);
      }),
    ]);
  } catch (error) {
    connecting.then(
      (late) => late.release(),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

type RunStatement = (statement: PreparedStatement, values: unknown[]) => Promise<Array<Record<string, unknown>>>;
type Query = (config: { text: string; name?: string; values?: unknown[] }) => Promise<pg.QueryResult | pg.QueryResult[]>;

/** A read timeout of node-postgres: the database did not answer at all. */
function isReadTimeout(error: unknown): boolean {
  return String((error as Error)?.message).includes('Query read timeout');
}

/**
 * The head, locked, and the database's clock read after the lock is held (the materialized CTE
 * locks first; the outer select then reads the clock): every writer, in any process, takes its
 * records' time under the same lock that orders their seqs, so time order is seq order and a month
 * ends at a seq. Milliseconds, because the canonical bytes carry ISO times with milliseconds.
 */
const READ_HEAD: PreparedStatement = {
  name: 'datarun_audit_head_at',
  text: `WITH head AS MATERIALIZED (SELECT seq, chain_hash, frontier FROM audit_chain_head WHERE chain_id = 1 FOR UPDATE)
    SELECT seq, chain_hash, frontier, floor(extract(epoch FROM clock_timestamp()) * 1000)::int8 AS now_ms FROM head`,
};
const NEW_HEAD = `seq = $${COLUMNS.length + 1}, chain_hash = $${COLUMNS.length + 2}, frontier = $${COLUMNS.length + 3}`;
const APPENDED_ALL = `(SELECT count(*) FROM appended) = $${COLUMNS.length + 4}`;
const APPEND: PreparedStatement = {
  name: 'datarun_audit_append',
  text: `WITH appended AS (${INSERT} RETURNING 1)
     UPDATE audit_chain_head SET ${NEW_HEAD} WHERE chain_id = 1 AND ${APPENDED_ALL}`,
};
/**
 * APPEND in one auto-commit statement, for a batch chained after the end this appender wrote last
 * (its seq and chain hash follow APPEND's values, then the batch's time and a deadline): the head
 * is locked only if it is still that end, the batch's time is not ahead of the database's clock
 * (which every later writer reads after this statement commits) and the deadline has not passed
 * (a statement held up on its way, say by a stalled network, must not write records whose callers
 * were already refused); NOWAIT, since a writer holding the lock is about to move the head anyway.
 * Otherwise nothing is inserted and no row is updated. Returns the database's clock after the
 * append (for `learnClock`).
 */
const APPEND_AT_END: PreparedStatement = {
  name: 'datarun_audit_append_at_end',
  text: `WITH head AS MATERIALIZED (
       SELECT 1 FROM audit_chain_head
       WHERE chain_id = 1 AND seq = $${COLUMNS.length + 5} AND chain_hash = $${COLUMNS.length + 6}
         AND floor(extract(epoch FROM clock_timestamp()) * 1000)::int8 BETWEEN $${COLUMNS.length + 7}::int8 AND $${COLUMNS.length + 8}::int8
       FOR UPDATE NOWAIT),
     appended AS (${INSERT} WHERE EXISTS (SELECT 1 FROM head) RETURNING 1)
     UPDATE audit_chain_head SET ${NEW_HEAD} WHERE chain_id = 1 AND ${APPENDED_ALL}
     RETURNING floor(extract(epoch FROM clock_timestamp()) * 1000)::int8 AS now_ms`,
};

/**
 * Locks the head, chains the events after it, inserts them and moves the head: two statements
 * (the insert and the head update share one), since round trips are the append's cost.
 */
async function writeChained(run: RunStatement, batch: readonly Pending[]): Promise<void> {
  const head = headOf(await run(READ_HEAD, []));
  await run(APPEND, chainAfter(head, batch, head.atMs).values);
}

/** READ_HEAD's row as a chain end, timed by the database's clock under the lock. */
function headOf(rows: ReadonlyArray<Record<string, unknown>>): ChainEnd {
  const head = rows[0] as { seq: string; chain_hash: Buffer; frontier: unknown; now_ms: string };
  return { seq: Number(head.seq), chainHash: head.chain_hash, frontier: MerkleFrontier.fromJSON(head.frontier as never), atMs: Number(head.now_ms) };
}

/**
 * The batch chained after `end` (whose frontier takes the new leaves), its records timed `atMs`
 * unless they name their own time: APPEND's values, and the end they make.
 */
function chainAfter(end: ChainEnd, batch: readonly Pending[], atMs: number): { values: unknown[]; end: ChainEnd } {
  const now = new Date(atMs);
  const frontier = end.frontier;
  let seq = end.seq;
  let chain = end.chainHash;
  const events = batch.map((pending): ChainedEvent => {
    seq += 1;
    const content = contentOf(seq, pending, pending.at ?? now);
    const bytes = recordBytes(content);
    // The same leaf and chain hashes (and, in the frontier, the same Merkle nodes) the verifier recomputes.
    const link = chainLink(chain, bytes);
    chain = link.chainHash;
    frontier.append(link.leafHash);
    return { pending, content, bytes, chainHash: chain };
  });
  return {
    values: [...columnsOf(events), seq, chain, JSON.stringify(frontier.toJSON()), events.length],
    end: { seq, chainHash: chain, frontier, atMs },
  };
}

function contentOf(seq: number, p: Pending, at: Date): AuditRecordContent {
  const e = p.event;
  return {
    v: 1,
    seq,
    id: p.id,
    at: at.toISOString(),
    member: e.memberId,
    actor: e.actor,
    action: e.action,
    source: e.sourceId ?? null,
    subject: e.subjectHash ?? null,
    purpose: e.purpose ?? null,
    caseId: e.caseId ?? null,
    object: e.object ?? null,
    fields: [...(e.fields ?? [])],
    decision: e.decision,
    reason: e.reason ?? null,
    latencyMs: e.latencyMs === undefined ? null : Math.round(e.latencyMs),
    correlationId: e.correlationId ?? null,
  };
}

/** The searchable columns are copies of the hashed content; the verifier checks they agree. */
function columnsOf(events: readonly ChainedEvent[]): unknown[][] {
  const pick = (f: (e: ChainedEvent) => unknown) => events.map(f);
  return [
    pick((e) => e.content.seq),
    pick((e) => e.content.id),
    pick((e) => e.content.at),
    pick((e) => e.content.member),
    pick((e) => e.content.actor),
    pick((e) => e.content.action),
    pick((e) => e.content.source),
    pick((e) => e.content.subject),
    pick((e) => e.content.purpose),
    pick((e) => e.content.caseId),
    pick((e) => e.content.object),
    pick((e) => JSON.stringify(e.content.fields)),
    pick((e) => e.content.decision),
    pick((e) => e.content.reason),
    pick((e) => e.content.latencyMs),
    pick((e) => e.content.correlationId),
    pick((e) => e.bytes),
    pick((e) => e.chainHash),
  ];
}
