// A worker thread of verifyAuditLog: verifies one range of the audit chain on a connection of its
// own, in the snapshot the main thread exported, and posts the RangeResult (as soon as the range
// fails, or at its end). Loaded from its compiled form (dist/…/verify-worker.js); under ts-jest
// a test passes a transpiled copy as `workerScript`.

import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import { verifyRangeFromDatabase } from './range-copy.js';
import type { RangeResult, RangeSpec } from './range-verifier.js';

export interface VerifyWorkerData {
  readonly connection: pg.ClientConfig;
  /** pg_export_snapshot() of the main thread's transaction, so every range sees the same log. */
  readonly snapshot: string;
  readonly spec: RangeSpec;
}

export type VerifyWorkerMessage = { readonly result: RangeResult } | { readonly error: string };

const post = (message: VerifyWorkerMessage): void => parentPort?.postMessage(message);

if (parentPort) {
  const { connection, snapshot, spec } = workerData as VerifyWorkerData;
  const client = new pg.Client(connection);
  // A broken connection also fails the query in progress, which is what gets reported.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // One range of a large log may take longer than the pool's statement limit (meant for requests).
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(snapshot)}`);
    const result = await verifyRangeFromDatabase(client, spec, (early) => post({ result: early }));
    post({ result });
    await client.query('COMMIT');
  } catch (error) {
    post({ error: (error as Error).message });
  } finally {
    await client.end().catch(() => undefined);
  }
}
