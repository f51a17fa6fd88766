import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { poolOf } from '@datarun/db';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { type Archive, readArchive } from './archive.js';
import { checkpointFromRow, type CheckpointRow } from './checkpoints.js';
import { GENESIS, type SignedCheckpoint, type TrustedCheckpointKeys, verifyCheckpointBy } from './integrity/index.js';
import { verifyRangeFromDatabase } from './range-copy.js';
import { RangeMerge, splitRanges, type VerifyFailure } from './range-merge.js';
import { type RangeResult, RangeVerifier } from './range-verifier.js';
import type { VerifyWorkerData, VerifyWorkerMessage } from './verify-worker.js';

export type { VerifyFailure } from './range-merge.js';

export interface VerifyReport {
  ok: boolean;
  /** Records whose hashes were recomputed. */
  checked: number;
  firstBadSeq?: number;
  reason?: VerifyFailure;
  /** The last sequence number found in the range (after a failure: the last record that verified). */
  lastSeq: number;
  /** Checkpoints whose signature and hashes matched. */
  checkpointsVerified: number;
}

export interface VerifyOptions {
  /**
   * The audit keys' public halves by kid (each checkpoint is checked with the key of its kid, so
   * checkpoints of a retired key still verify), or one key for every checkpoint: the only keys
   * checkpoints are checked against, never the key a checkpoint carries.
   */
  readonly trustedKey: TrustedCheckpointKeys;
  /** Copies of checkpoints kept outside the database (file, Kafka topic). */
  readonly externalCheckpoints?: readonly SignedCheckpoint[];
  /** Archive files of expired months (oldest first or not: they are ordered by sequence). */
  readonly archives?: readonly string[];
  readonly from?: number;
  readonly to?: number;
  /** No longer used: rows are streamed (binary COPY), not read in batches. Accepted for existing callers. */
  readonly batchSize?: number;
  /**
   * Worker threads, one per range of the records in the database; 0 verifies in this thread.
   * Default: one per core (at most 4) when at least 250,000 records are to be read and the
   * compiled worker is found, else 0.
   */
  readonly workers?: number;
  /** The compiled worker (default: verify-worker.js beside this module; absent under ts-jest, where tests pass a transpiled copy). */
  readonly workerScript?: URL;
}

/**
 * Below this many records workers cost more than they save: starting one (thread, pg, connection,
 * snapshot) takes ~0.15 s, and on the 2-core machine, where PostgreSQL needs the same cores, two
 * workers beat this thread by ~20%; break-even was near 200,000 records.
 */
const PARALLEL_FROM = 250_000;
const MAX_AUTO_WORKERS = 4;
const DEFAULT_WORKER = new URL('./verify-worker.js', import.meta.url);

/**
 * Recomputes the audit chain from the stored canonical bytes and reports the first bad sequence
 * number: a gap or reordering, searchable columns that disagree with the hashed bytes, a stored
 * chain hash that does not follow, a checkpoint whose signature fails against the trusted key or
 * whose chain/root hash differs from the recomputation (a rewritten chain with fresh hashes), and
 * a tail truncated behind the newest checkpoint. From seq 1 it also recomputes the RFC 6962
 * Merkle root at every checkpoint. Needs only the database and the public key; expired months are
 * read from their archive files first, so the chain stays verifiable after retention.
 *
 * A range that starts after 1 takes the stored chain hash of its predecessor as given, and skips
 * the root checks (they need every leaf from 1); the default is the whole log.
 *
 * The database is read in one REPEATABLE READ snapshot, streamed with binary COPY; with workers,
 * the records are split into contiguous ranges verified in parallel in that same snapshot (each
 * worker from its predecessor's stored chain hash) and joined in order by RangeMerge, which
 * checks the seams and the checkpoints: the verdict is the one a single pass gives.
 */
export async function verifyAuditLog(dataSource: DataSource, options: VerifyOptions): Promise<VerifyReport> {
  const archives = (options.archives ?? []).map(readArchive).sort((a, b) => a.firstSeq - b.firstSeq);
  const from = archives.length > 0 ? 1 : Math.max(1, options.from ?? 1);
  // COPY takes no parameters: the bound goes into the statement, so it must be an integer.
  if (options.to !== undefined && !Number.isSafeInteger(options.to)) throw new TypeError('verifyAuditLog: to must be an integer');

  const client = await poolOf(dataSource).connect();
  let broken = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // A whole log's verification is long by nature, and this connection idles in its transaction
    // while the workers read their ranges: the pool's statement and idle limits are for requests.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SET LOCAL idle_in_transaction_session_timeout = 0');
    const report = await verifyInSnapshot(client, dataSource, archives, from, options);
    await client.query('COMMIT');
    return report;
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // A connection that failed mid-COPY or mid-transaction is not given back to the pool.
    client.release(broken);
  }
}

async function verifyInSnapshot(
  client: pg.PoolClient,
  dataSource: DataSource,
  archives: readonly Archive[],
  from: number,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const checkpoints = await collectCheckpoints(client, [...(options.externalCheckpoints ?? []), ...archives.flatMap((a) => a.checkpoints)]);

  let start = { seq: 0, chainHash: GENESIS.toString('hex') };
  if (from > 1) {
    const { rows } = await client.query<{ chain_hash: Buffer }>('SELECT chain_hash FROM audit_event WHERE seq = $1', [from - 1]);
    if (!rows[0]) return { ok: false, checked: 0, firstBadSeq: from - 1, reason: 'gap', lastSeq: from - 2, checkpointsVerified: 0 };
    start = { seq: from - 1, chainHash: rows[0].chain_hash.toString('hex') };
  }
  const merge = new RangeMerge(start, checkpoints, options.trustedKey);

  for (const archive of archives) {
    if (!archive.intact) {
      merge.fail(archive.firstSeq, 'archive');
      break;
    }
    const verifier = new RangeVerifier(merge.spec(merge.point));
    for (const record of archive.records) {
      verifier.record(record.seq, record.bytes, record.chainHash);
      if (verifier.done) break;
    }
    if (!merge.add(verifier.result())) break;
  }
  if (merge.ok) await verifyDatabase(client, dataSource, merge, options);

  const report = (extra: Partial<VerifyReport> = {}): VerifyReport => ({
    ok: true,
    checked: merge.checked,
    lastSeq: merge.lastSeq,
    checkpointsVerified: merge.verified,
    ...extra,
  });
  if (merge.failure) return report({ ok: false, firstBadSeq: merge.failure.seq, reason: merge.failure.reason });

  const lastSeq = merge.lastSeq;
  // Checkpoints beyond the last record: the tail was truncated (or a forged checkpoint was added).
  const beyond = [...checkpoints.entries()].filter(([seq]) => seq > lastSeq && (options.to === undefined || seq <= options.to));
  if (beyond.length > 0) {
    const genuine = beyond.some(([, cs]) => cs.some((c) => verifyCheckpointBy(c, options.trustedKey)));
    return report({ ok: false, firstBadSeq: genuine ? lastSeq + 1 : merge.lastGood + 1, reason: genuine ? 'truncated' : 'checkpoint-signature' });
  }
  return report();
}

/** The records in the database after what the merge has verified (archives, or the start), up to `to`. */
async function verifyDatabase(client: pg.PoolClient, dataSource: DataSource, merge: RangeMerge, options: VerifyOptions): Promise<void> {
  const first = merge.point.seq + 1;
  const { rows } = await client.query<{ last: string | null }>('SELECT max(seq)::text AS last FROM audit_event WHERE seq >= $1', [first]);
  if (rows[0].last === null) return;
  // Bounded by the last record that exists, so a range short of its end is a real gap.
  const last = Math.min(Number(rows[0].last), options.to ?? Number.POSITIVE_INFINITY);
  if (last < first) return;
  const count = last - first + 1;
  const script = options.workerScript ?? DEFAULT_WORKER;
  const workers = Math.floor(
    Math.min(count, options.workers ?? (count >= PARALLEL_FROM && existsSync(fileURLToPath(script)) ? Math.min(availableParallelism(), MAX_AUTO_WORKERS) : 0)),
  );
  // A connection whose settings cannot be cloned into a worker (a function in `ssl`, say) is verified here.
  const connection = workers > 0 && Number.isSafeInteger(last) ? connectionOf(dataSource) : undefined;

  if (!connection) {
    merge.add(await verifyRangeFromDatabase(client, merge.spec(merge.point, { upTo: options.to })));
    return;
  }

  const ranges = splitRanges(first, last, workers);
  const predecessors = await storedChainHashes(
    client,
    ranges.slice(1).map((r) => r.first - 1),
  );
  const snapshot = (await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0].id;
  const running: Array<RunningRange | undefined> = [];
  try {
    for (const [k, range] of ranges.entries()) {
      // A missing or repeated predecessor row fails the range before it first (gap or order).
      const predecessor = k === 0 ? merge.point : predecessors.get(range.first - 1);
      const spec = predecessor && merge.spec(predecessor, range.last !== undefined ? { last: range.last } : { upTo: options.to });
      running.push(spec && runWorker(script, { connection, snapshot, spec }));
    }
    for (const [k, range] of running.entries()) {
      if (!range) throw new Error(`audit verification: the range from ${ranges[k].first} has no single predecessor, yet the range before it passed`);
      if (!merge.add(await range.result)) break;
    }
  } finally {
    for (const range of running) range?.stop();
  }
}

/** The stored chain hashes (hex) of the given records; a seq found twice is left out. */
async function storedChainHashes(client: pg.PoolClient, seqs: number[]): Promise<Map<number, { seq: number; chainHash: string }>> {
  const { rows } = await client.query<{ seq: string; chain_hash: Buffer }>('SELECT seq, chain_hash FROM audit_event WHERE seq = ANY($1::int8[])', [seqs]);
  const found = new Map<number, { seq: number; chainHash: string }>();
  const repeated = new Set<number>();
  for (const row of rows) {
    const seq = Number(row.seq);
    if (found.has(seq)) repeated.add(seq);
    found.set(seq, { seq, chainHash: row.chain_hash.toString('hex') });
  }
  for (const seq of repeated) found.delete(seq);
  return found;
}

/** How the pool connects, for a worker's own connection; undefined when a setting cannot cross to a thread. */
function connectionOf(dataSource: DataSource): pg.ClientConfig | undefined {
  const o = poolOf(dataSource).options as pg.PoolConfig;
  const config: pg.ClientConfig = {
    connectionString: o.connectionString,
    host: o.host,
    port: o.port,
    user: o.user,
    password: o.password,
    database: o.database,
    ssl: o.ssl,
    options: o.options,
    application_name: o.application_name,
    connectionTimeoutMillis: o.connectionTimeoutMillis,
  };
  for (const key of Object.keys(config) as Array<keyof pg.ClientConfig>) if (config[key] === undefined) delete config[key];
  try {
    structuredClone(config);
    return config;
  } catch {
    return undefined;
  }
}

interface RunningRange {
  readonly result: Promise<RangeResult>;
  stop(): void;
}

function runWorker(script: URL, data: VerifyWorkerData): RunningRange {
  const worker = new Worker(script, { workerData: data });
  const result = new Promise<RangeResult>((resolve, reject) => {
    worker.once('message', (message: VerifyWorkerMessage) =>
      'result' in message ? resolve(message.result) : reject(new Error(`audit verification worker: ${message.error}`)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`audit verification worker exited (${code}) without a result`)));
  });
  const settled = result.finally(() => void worker.terminate());
  // Awaited in order, or left behind when a range before it has failed.
  settled.catch(() => undefined);
  return { result: settled, stop: () => void worker.terminate() };
}

/** Database and external copies by sequence number; a differing copy of the same seq is kept too. */
async function collectCheckpoints(client: pg.PoolClient, external: readonly SignedCheckpoint[]): Promise<Map<number, SignedCheckpoint[]>> {
  const { rows } = await client.query<CheckpointRow>('SELECT * FROM audit_checkpoint ORDER BY seq');
  const all: SignedCheckpoint[] = [...rows.map(checkpointFromRow), ...external];
  const bySeq = new Map<number, SignedCheckpoint[]>();
  for (const c of all) {
    const list = bySeq.get(c.seq) ?? [];
    if (!list.some((x) => x.signature === c.signature && x.chainHash === c.chainHash && x.rootHash === c.rootHash)) list.push(c);
    bySeq.set(c.seq, list);
  }
  return bySeq;
}
