// Joins the results of ranges verified apart (in workers, or one after another) into the verdict
// a single pass from the first record would give, and checks the checkpoints on the way.
//
// Range k was verified from the chain hash STORED on its predecessor (record a_k - 1), which is
// only an assumption until the ranges before it have passed. So, in order: a range counts only
// if every range before it passed and its assumed start equals the chain recomputed up to a_k - 1
// (the seam); otherwise its first record is the first bad one, as one pass would find (its
// stored chain hash cannot follow from the recomputed one). The lowest failure wins, and the
// counts (checked, checkpoints) stop there. The Merkle tree head at a checkpoint inside a range
// is the compact range over everything before the range joined with the range's own nodes up to
// the checkpoint, so the workers never need each other's leaves.

import { CompactRange, type SignedCheckpoint, type TrustedCheckpointKeys, verifyCheckpointBy } from './integrity/index.js';
import type { RangeMark, RangeResult, RangeSpec } from './range-verifier.js';

export type VerifyFailure = 'gap' | 'order' | 'columns' | 'hash' | 'checkpoint-signature' | 'checkpoint-mismatch' | 'truncated' | 'archive';

/**
 * `count` contiguous ranges over the records first..last, as equal as integers allow; each but
 * the last must be read to its `last`, the last one runs to the end of the log (or `to`).
 */
export function splitRanges(first: number, last: number, count: number): Array<{ first: number; last?: number }> {
  const n = last - first + 1;
  const parts = Math.max(1, Math.min(count, n));
  const starts = Array.from({ length: parts }, (_, k) => first + Math.floor((k * n) / parts));
  return starts.map((start, k) => (k < parts - 1 ? { first: start, last: starts[k + 1] - 1 } : { first: start }));
}

export class RangeMerge {
  /** The last record that verified, with its recomputed chain hash (hex). */
  point: { seq: number; chainHash: string };
  checked = 0;
  /** Checkpoints whose signature and hashes matched. */
  verified = 0;
  /** The last checkpoint that verified (the start before any). */
  lastGood: number;
  failure?: { seq: number; reason: VerifyFailure };
  /** After a failure: the last record that verified. */
  private stoppedAt?: number;
  private readonly frontier?: CompactRange;
  private readonly checkpointSeqs: number[];

  /** From record 1 (`start.seq` 0, GENESIS) the Merkle roots are checked too. */
  constructor(
    start: { seq: number; chainHash: string },
    private readonly checkpoints: ReadonlyMap<number, SignedCheckpoint[]>,
    private readonly trustedKey: TrustedCheckpointKeys,
  ) {
    this.point = start;
    this.lastGood = start.seq;
    this.frontier = start.seq === 0 ? new CompactRange(0) : undefined;
    // Only whole sequence numbers can be a record's (a malformed external copy is never reached).
    this.checkpointSeqs = [...checkpoints.keys()].filter((seq) => Number.isSafeInteger(seq)).sort((a, b) => a - b);
  }

  get ok(): boolean {
    return this.failure === undefined;
  }

  /** The last record that verified. */
  get lastSeq(): number {
    return this.stoppedAt ?? this.point.seq;
  }

  /** The spec of a range that starts after `start.seq` (its predecessor's stored chain hash). */
  spec(start: { seq: number; chainHash: string }, bounds: { last?: number; upTo?: number } = {}): RangeSpec {
    const to = bounds.last ?? bounds.upTo ?? Number.POSITIVE_INFINITY;
    const marks = this.checkpointSeqs.filter((seq) => seq > start.seq && seq <= to);
    return { start, ...bounds, merkle: this.frontier !== undefined, marks };
  }

  /** Fails before any (further) record, e.g. a damaged archive file. */
  fail(seq: number, reason: VerifyFailure, stoppedAt = this.point.seq): void {
    if (this.failure) return;
    this.failure = { seq, reason };
    this.stoppedAt = stoppedAt;
  }

  /** Adds the next range in order; false once the log has failed (later ranges no longer count). */
  add(range: RangeResult): boolean {
    if (this.failure) return false;
    if (range.start.seq !== this.point.seq) throw new Error(`audit verification: range after ${range.start.seq} joined at ${this.point.seq}`);
    const first = range.start.seq + 1;
    const touched = range.checked > 0 || range.failure !== undefined;
    if (touched && range.start.chainHash !== this.point.chainHash) {
      const own = range.failure;
      if (own && own.seq === first && (own.reason === 'gap' || own.reason === 'order')) this.fail(own.seq, own.reason);
      else this.fail(first, 'hash');
      return false;
    }
    for (const mark of range.marks) {
      if (!this.checkpoint(mark)) {
        this.checked += mark.seq - first;
        return false;
      }
    }
    this.checked += range.checked;
    if (range.failure) {
      this.fail(range.failure.seq, range.failure.reason, range.last.seq);
      return false;
    }
    this.point = range.last;
    if (this.frontier) {
      if (!range.nodes) throw new Error('audit verification: a range came back without its Merkle nodes');
      this.frontier.join(range.nodes);
    }
    return true;
  }

  private checkpoint(mark: RangeMark): boolean {
    const checkpoint = this.checkpoints.get(mark.seq);
    if (!checkpoint) return true;
    if (!checkpoint.every((c) => verifyCheckpointBy(c, this.trustedKey))) {
      this.fail(this.lastGood + 1, 'checkpoint-signature', mark.seq - 1);
      return false;
    }
    let root: string | undefined;
    if (this.frontier) {
      if (!mark.nodes) throw new Error('audit verification: a checkpoint mark came back without its Merkle nodes');
      const upTo = this.frontier.clone();
      upTo.join(mark.nodes);
      root = upTo.rootHex();
    }
    if (!checkpoint.every((c) => c.chainHash === mark.chainHash && (root === undefined || c.rootHash === root))) {
      this.fail(this.lastGood + 1, 'checkpoint-mismatch', mark.seq - 1);
      return false;
    }
    this.verified += checkpoint.length;
    this.lastGood = mark.seq;
    return true;
  }
}
