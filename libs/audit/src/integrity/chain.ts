// The audit log's hash chain.
//
//   leaf(seq)  = leafHash(recordBytes(seq))            RFC 6962 leaf hash, see merkle.ts
//   chain(0)   = GENESIS (32 zero bytes)
//   chain(seq) = SHA-256(chain(seq - 1) || leaf(seq))
//
// The leaf is the same value the Merkle tree is built over, so one pass over the stored bytes
// gives both the chain and (through `onLeaf`) the tree head.
//
// Splitting a range across workers: chain(b) depends only on chain(a - 1) and the records
// a..b, so records [a..b] can be verified with `start = { seq: a - 1, chainHash: <the chain hash
// STORED on record a - 1> }` without reading anything before a. That stored value is only an
// assumption until the worker covering the previous range has verified record a - 1, so the
// caller must stitch: range i is trusted only if range i - 1 succeeded and its `last.chainHash`
// equals the `start.chainHash` range i used (it does whenever range i - 1 passed, because a
// passing range has recomputed and matched the stored hash of its last record). The first range
// starts from GENESIS (seq 0) or from a signed checkpoint / archived chain hash. When several
// ranges fail, the report is the failure of the lowest range.

import { hash } from 'node:crypto';

import { HASH_SIZE, isHash, leafHash, leafHashLatin1 } from './merkle.js';

/** The chain value before record 1. */
export const GENESIS: Buffer = Buffer.alloc(HASH_SIZE);

const chainInput = Buffer.alloc(2 * HASH_SIZE);

/** The chain step SHA-256(previous || leaf), latin1 in and out (see merkle.ts for why latin1). */
export function chainHashLatin1(previous: string, leaf: string): string {
  for (let i = 0; i < HASH_SIZE; i++) {
    chainInput[i] = previous.charCodeAt(i);
    chainInput[HASH_SIZE + i] = leaf.charCodeAt(i);
  }
  return hash('sha256', chainInput, 'binary');
}

/** SHA-256(previous || leaf), where `leaf` is the record's RFC 6962 leaf hash. */
export function chainHash(previous: Buffer, leaf: Buffer): Buffer {
  if (!isHash(previous)) throw new TypeError('chainHash: previous must be a 32-byte Buffer');
  if (!isHash(leaf)) throw new TypeError('chainHash: leaf must be a 32-byte Buffer');
  return Buffer.from(chainHashLatin1(previous.toString('latin1'), leaf.toString('latin1')), 'latin1');
}

/** What the writer stores with the record whose canonical bytes are `bytes`. */
export function chainLink(previous: Buffer, bytes: Buffer): { leafHash: Buffer; chainHash: Buffer } {
  const leaf = leafHash(bytes);
  return { leafHash: leaf, chainHash: chainHash(previous, leaf) };
}

export interface ChainRecord {
  seq: number;
  /** The canonical bytes that were hashed (recordBytes). */
  bytes: Buffer;
  /** The chain hash stored with the record. */
  chainHash: Buffer;
}

export interface ChainPoint {
  seq: number;
  chainHash: Buffer;
}

export type ChainFailureReason = 'gap' | 'order' | 'hash';

export interface ChainFailure {
  readonly seq: number;
  readonly reason: ChainFailureReason;
}

export type VerifyChainResult =
  { ok: true; checked: number; last: ChainPoint } | { ok: false; checked: number; firstBadSeq: number; reason: ChainFailureReason };

export interface VerifyChainOptions {
  /** Called with each record's leaf hash once the record has verified (e.g. to feed a MerkleFrontier). */
  onLeaf?: (seq: number, leaf: Buffer) => void;
}

/**
 * Recomputes the chain over `records`, which must come in ascending seq order starting right
 * after `start.seq` (0 with GENESIS for the beginning of the log).
 *
 * Stops at the first problem. Every record with seq < firstBadSeq has verified; `checked` is how
 * many did. `firstBadSeq` is the sequence number expected at the failing position:
 * - `gap`: the next record's seq is higher than expected (records missing: deleted, or the
 *   range was cut short by a caller that knows more should follow);
 * - `order`: the next record's seq is not higher than the last one (a repeated or out-of-order
 *   row, or a seq that is not a safe integer);
 * - `hash`: the stored chain hash differs from the recomputation (the record's bytes, or its
 *   stored hash, or any earlier stored hash that was rewritten to match, was changed).
 *
 * Truncation of the tail is not visible here (a shorter chain is still a valid chain): compare
 * the result's `last` with a signed checkpoint.
 */
export function verifyChain(records: Iterable<ChainRecord>, start: ChainPoint, options: VerifyChainOptions = {}): VerifyChainResult {
  if (!isHash(start?.chainHash)) throw new TypeError('verifyChain: start.chainHash must be a 32-byte Buffer');
  const cursor = new ChainCursor(start.seq, start.chainHash.toString('latin1'));
  const onLeaf = options.onLeaf;
  let checked = 0;
  for (const record of records) {
    const failure = cursor.check(record.seq, record.bytes, record.chainHash);
    if (failure) return { ok: false, checked, firstBadSeq: failure.seq, reason: failure.reason };
    if (onLeaf) onLeaf(record.seq, Buffer.from(cursor.leaf, 'latin1'));
    cursor.advance();
    checked += 1;
  }
  return { ok: true, checked, last: { seq: cursor.expected - 1, chainHash: Buffer.from(cursor.previous, 'latin1') } };
}

/**
 * The chain recomputed one record at a time: the sequence and hash rules of verifyChain, shared
 * with the range verifier (range-verifier.ts), which checks the searchable columns between
 * `follows` and `advance`. Hashes are latin1.
 */
export class ChainCursor {
  /** The sequence number the next record must have. */
  expected: number;
  /** The leaf and chain hashes of the record `follows` last recomputed. */
  leaf = '';
  chain = '';

  /** From the record `seq` (0 for the start of the log) whose chain hash is `previous`. */
  constructor(
    seq: number,
    public previous: string,
  ) {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError('chain start: seq must be an integer >= 0');
    this.expected = seq + 1;
  }

  /** Undefined when `seq` is the one expected; else the failure, at the expected seq (a gap or a repeat/disorder). */
  sequence(seq: number): ChainFailure | undefined {
    if (seq === this.expected) return undefined;
    return { seq: this.expected, reason: Number.isSafeInteger(seq) && seq > this.expected ? 'gap' : 'order' };
  }

  /** Whether bytes[from, to) chained after `previous` give the stored chain hash at stored[at, at + 32). */
  follows(bytes: Buffer, from: number, to: number, stored: Buffer, at: number): boolean {
    const leaf = leafHashLatin1(bytes, from, to);
    const chain = chainHashLatin1(this.previous, leaf);
    this.leaf = leaf;
    this.chain = chain;
    for (let i = 0; i < HASH_SIZE; i++) if (chain.charCodeAt(i) !== stored[at + i]) return false;
    return true;
  }

  /** Sequence and hash checks of one whole record (an archived one, or verifyChain's). */
  check(seq: number, bytes: unknown, chainHash: unknown): ChainFailure | undefined {
    const outOfSequence = this.sequence(seq);
    if (outOfSequence) return outOfSequence;
    if (!Buffer.isBuffer(bytes) || !isHash(chainHash) || !this.follows(bytes, 0, bytes.length, chainHash, 0)) return { seq, reason: 'hash' };
    return undefined;
  }

  /** The record `follows` last recomputed has verified: the next one chains after it. */
  advance(): void {
    this.previous = this.chain;
    this.expected += 1;
  }
}
