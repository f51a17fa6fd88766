// Streams one range of audit_event through `COPY … TO STDOUT (FORMAT binary)` into a
// RangeVerifier. Shared by verifyAuditLog (in its own thread) and verify-worker.ts.
//
// pg has no COPY OUT of its own (pg-copy-streams adds one as a Readable); this is the same
// Submittable hook, but it hands each CopyData chunk to the verifier synchronously: the chunk is
// a view into pg's parse buffer, which pg reuses, and a stream would add a hop per row.

import type { ClientBase, Connection, Submittable } from 'pg';
import { COPY_COLUMNS } from './audit-copy-row.js';
import { RangeVerifier, type RangeResult, type RangeSpec } from './range-verifier.js';

/** The statement that streams a range's rows; the bounds are integers checked here, COPY takes no parameters. */
export function rangeStatement(spec: RangeSpec): string {
  const first = spec.start.seq + 1;
  const last = spec.last ?? spec.upTo;
  if (!Number.isSafeInteger(first) || (last !== undefined && !Number.isSafeInteger(last))) throw new TypeError('range bounds must be safe integers');
  // The heap is in seq order (append-only), so walking the seq index of each partition (a merge
  // append, no sort) is the cheap plan; without statistics the planner sorts a million rows on
  // disk instead. JIT only adds compile time to this plan.
  return `COPY (SELECT ${COPY_COLUMNS.join(', ')} FROM audit_event WHERE seq >= ${first}${last === undefined ? '' : ` AND seq <= ${last}`} ORDER BY audit_event.seq) TO STDOUT (FORMAT binary)`;
}

class CopyOut implements Submittable {
  private settled = false;
  private failure?: Error;

  constructor(
    private readonly text: string,
    private readonly onChunk: (chunk: Buffer) => void,
    private readonly settle: (error?: Error) => void,
  ) {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyData(message: { chunk: Buffer }): void {
    if (this.failure) return;
    try {
      this.onChunk(message.chunk);
    } catch (error) {
      this.failure = error as Error;
    }
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.done(this.failure);
  }

  handleError(error: Error): void {
    this.done(error);
  }

  handleRowDescription(): void {
    this.failure ??= new Error('COPY: the statement returned rows instead of a COPY stream');
  }

  handleDataRow(): void {}

  handleEmptyQuery(): void {}

  handlePortalSuspended(): void {}

  handleCopyInResponse(connection: Connection): void {
    this.failure ??= new Error('COPY: the server asked for COPY IN');
    (connection as unknown as { sendCopyFail(message: string): void }).sendCopyFail('not supported');
  }

  private done(error?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(error);
  }
}

/**
 * Verifies the range `spec` from the database on `client`, inside the caller's transaction (its
 * snapshot). `onFailure` is told as soon as the range has failed, before the rest of the stream
 * is read (a worker reports then and is stopped).
 */
export async function verifyRangeFromDatabase(client: ClientBase, spec: RangeSpec, onFailure?: (result: RangeResult) => void): Promise<RangeResult> {
  await client.query('SET LOCAL enable_sort = off; SET LOCAL jit = off');
  const verifier = new RangeVerifier(spec);
  let told = false;
  await new Promise<void>((resolve, reject) => {
    const copy = new CopyOut(
      rangeStatement(spec),
      (chunk) => {
        verifier.write(chunk);
        if (verifier.done && !told && onFailure) {
          told = true;
          onFailure(verifier.result());
        }
      },
      (error) => (error ? reject(error) : resolve()),
    );
    client.query(copy);
  });
  if (!verifier.done && !verifier.complete) throw new Error('COPY: the stream ended before its trailer');
  return verifier.result();
}
