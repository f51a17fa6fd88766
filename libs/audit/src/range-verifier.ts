// Verifies one contiguous range of the audit chain from rows streamed by PostgreSQL's binary COPY
// (or from archived records), one record at a time, without building a row object per record.
// A worker thread runs one of these per range (verify-worker.ts); verifyAuditLog runs one in its
// own thread when it does not use workers; RangeMerge (range-merge.ts) joins the ranges.
//
// Per record, in the order verifyChain checks them: the sequence number (gap/order), the stored
// chain hash (hash), the searchable columns against the hashed bytes (columns); then the Merkle
// leaf goes into the range's compact tree, and at a checkpoint's seq the chain hash and the tree
// so far are noted. The parts: binary-copy.ts frames the tuples, canonical-check.ts compares the
// columns, integrity/ recomputes the chain (ChainCursor) and the tree (CompactRange).
//
// Why it looks the way it does (measured on the 2-core machine, 1M records, see README
// "Performance"): the old verifier (kept as the test oracle, test/support/audit-oracle.ts) spent
// its time building row objects, JSON-parsing every record and allocating a Buffer per SHA-256.
// Imports only node: modules and types, so that a worker loads little.

import { COPY_COLUMNS, Field } from './audit-copy-row.js';
import { BinaryCopyReader, int64At } from './binary-copy.js';
import { CanonicalCheck } from './canonical-check.js';
import { ChainCursor } from './integrity/chain.js';
import { HASH_SIZE, hexToLatin1, latin1ToHex } from './integrity/merkle.js';
import { type CompactNodes, CompactRange } from './integrity/merkle-range.js';

// The fields the verifier reads itself, as module constants: they are read for every row.
const SEQ = Field.seq;
const CANONICAL = Field.canonical;
const CHAIN_HASH = Field.chain_hash;

export type RangeFailureReason = 'gap' | 'order' | 'hash' | 'columns';

/** What one range verifier is asked to do. Plain data: it crosses to a worker thread. */
export interface RangeSpec {
  /** The record before the range: its sequence number and the chain hash taken as given (hex). */
  readonly start: { readonly seq: number; readonly chainHash: string };
  /** The range's last record when the range must reach it (every range but the last); absent: up to the end of the stream. */
  readonly last?: number;
  /** The database range's last record when `last` is absent (a `to` limit): bounds the query, need not be reached. */
  readonly upTo?: number;
  /** Keep the compact Merkle range (the log is verified from record 1, so checkpoint roots are checked). */
  readonly merkle: boolean;
  /** Sequence numbers (ascending) at which to note the chain hash and the compact range: the checkpoints. */
  readonly marks: readonly number[];
}

export interface RangeMark {
  readonly seq: number;
  /** The recomputed chain hash at `seq`, hex. */
  readonly chainHash: string;
  /** The compact range from the range's start up to and including `seq` (when `merkle`). */
  readonly nodes?: CompactNodes;
}

export interface RangeResult {
  readonly start: { readonly seq: number; readonly chainHash: string };
  /** Records that passed every check before the first failure. */
  readonly checked: number;
  /** The last record that passed (the start when none did), with its recomputed chain hash, hex. */
  readonly last: { readonly seq: number; readonly chainHash: string };
  readonly failure?: { readonly seq: number; readonly reason: RangeFailureReason };
  /** The compact range over the records that passed (when `merkle`). */
  readonly nodes?: CompactNodes;
  readonly marks: RangeMark[];
  /** Rows that needed the slow columns check (escaped strings, unusual arrays, disagreements). */
  readonly slowRows: number;
}

/**
 * One range's verifier. Feed it the COPY stream with `write` (chunks in any split) or archived
 * records with `record`, then call `result`. Stops checking at the first failure (the rest of the
 * stream is ignored).
 */
export class RangeVerifier {
  private readonly chain: ChainCursor;
  private checkedCount = 0;
  private failed?: { seq: number; reason: RangeFailureReason };
  private readonly compact?: CompactRange;
  private readonly marks: RangeMark[] = [];
  private nextMark = 0;
  private readonly copy = new BinaryCopyReader(COPY_COLUMNS.length);
  private readonly columns = new CanonicalCheck();

  constructor(private readonly spec: RangeSpec) {
    if (!/^[0-9a-f]{64}$/.test(spec.start.chainHash)) throw new TypeError('RangeVerifier: start.chainHash must be 64 hex digits');
    this.chain = new ChainCursor(spec.start.seq, hexToLatin1(spec.start.chainHash));
    if (spec.merkle) this.compact = new CompactRange(spec.start.seq);
    while (this.nextMark < spec.marks.length && spec.marks[this.nextMark] <= spec.start.seq) this.nextMark += 1;
  }

  get done(): boolean {
    return this.failed !== undefined;
  }

  /** True when the stream ended properly (the trailer was seen and nothing is left over). */
  get complete(): boolean {
    return this.copy.complete;
  }

  /** An archived record (no searchable columns to compare). */
  record(seq: number, bytes: unknown, chainHash: unknown): void {
    if (this.failed) return;
    const failure = this.chain.check(seq, bytes, chainHash);
    if (failure) return this.fail(failure);
    this.passed(seq);
  }

  /** A chunk of `COPY (…) TO STDOUT (FORMAT binary)` output with the COPY_COLUMNS. */
  write(chunk: Buffer): void {
    if (this.failed) return;
    const copy = this.copy;
    copy.push(chunk);
    while (copy.nextTuple()) {
      this.row(copy.buffer, copy.offsets, copy.lengths);
      if (this.failed) return;
    }
    copy.release();
  }

  /** The range's outcome, once the whole stream has been read (a range short of `last` is a gap). */
  result(): RangeResult {
    const expected = this.chain.expected;
    if (!this.failed && this.spec.last !== undefined && expected <= this.spec.last) this.fail({ seq: expected, reason: 'gap' });
    return {
      start: this.spec.start,
      checked: this.checkedCount,
      last: { seq: expected - 1, chainHash: latin1ToHex(this.chain.previous) },
      ...(this.failed ? { failure: this.failed } : {}),
      ...(this.compact ? { nodes: this.compact.nodes() } : {}),
      marks: this.marks,
      slowRows: this.columns.slowRows,
    };
  }

  private fail(failure: { seq: number; reason: RangeFailureReason }): void {
    this.failed = failure;
    this.copy.discard();
  }

  private row(bytes: Buffer, offsets: Int32Array, lengths: Int32Array): void {
    const seq = lengths[SEQ] === 8 ? int64At(bytes, offsets[SEQ]) : Number.NaN;
    const outOfSequence = this.chain.sequence(seq);
    if (outOfSequence) return this.fail(outOfSequence);
    const canonicalFrom = offsets[CANONICAL];
    const canonicalTo = canonicalFrom + lengths[CANONICAL];
    if (lengths[CANONICAL] < 0 || lengths[CHAIN_HASH] !== HASH_SIZE) return this.fail({ seq, reason: 'hash' });
    if (!this.chain.follows(bytes, canonicalFrom, canonicalTo, bytes, offsets[CHAIN_HASH])) return this.fail({ seq, reason: 'hash' });
    if (!this.columns.agrees(bytes, offsets, lengths, seq, canonicalFrom, canonicalTo)) return this.fail({ seq, reason: 'columns' });
    this.passed(seq);
  }

  /** The record the chain cursor checked last has passed every check. */
  private passed(seq: number): void {
    this.compact?.push(this.chain.leaf, 0);
    this.chain.advance();
    this.checkedCount += 1;
    const marks = this.spec.marks;
    if (this.nextMark < marks.length && marks[this.nextMark] === seq) {
      this.marks.push({ seq, chainHash: latin1ToHex(this.chain.previous), ...(this.compact ? { nodes: this.compact.nodes() } : {}) });
      this.nextMark += 1;
    }
  }
}
