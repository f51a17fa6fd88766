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

import { HASH_SIZE, leafHash } from './merkle.js';

/** The chain value before record 1. */
export const GENESIS: Buffer = Buffer.alloc(HASH_SIZE);

const chainScratch = Buffer.allocUnsafe(HASH_SIZE * 2);

/** SHA-256(previous || leaf), where `leaf` is the record's RFC 6962 leaf hash. */
export function chainHash(previous: Buffer, leaf: Buffer): Buffer {
  if (!isHash(previous)) throw new TypeError('chainHash: previous must be a 32-byte Buffer');
  if (!isHash(leaf)) throw new TypeError('chainHash: leaf must be a 32-byte Buffer');
  previous.copy(chainScratch, 0);
  leaf.copy(chainScratch, HASH_SIZE);
  return hash('sha256', chainScratch, 'buffer');
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
  if (!Number.isSafeInteger(start?.seq) || start.seq < 0) throw new TypeError('verifyChain: start.seq must be an integer >= 0');
  if (!isHash(start.chainHash)) throw new TypeError('verifyChain: start.chainHash must be a 32-byte Buffer');
  const onLeaf = options.onLeaf;
  let previous = start.chainHash;
  let expected = start.seq + 1;
  let checked = 0;
  for (const record of records) {
    const seq = record.seq;
    if (seq !== expected) {
      const reason: ChainFailureReason = Number.isSafeInteger(seq) && seq > expected ? 'gap' : 'order';
      return { ok: false, checked, firstBadSeq: expected, reason };
    }
    if (!Buffer.isBuffer(record.bytes) || !isHash(record.chainHash)) {
      return { ok: false, checked, firstBadSeq: seq, reason: 'hash' };
    }
    const leaf = leafHash(record.bytes);
    previous.copy(chainScratch, 0);
    leaf.copy(chainScratch, HASH_SIZE);
    const computed = hash('sha256', chainScratch, 'buffer');
    if (!computed.equals(record.chainHash)) {
      return { ok: false, checked, firstBadSeq: seq, reason: 'hash' };
    }
    if (onLeaf) onLeaf(seq, leaf);
    previous = computed;
    expected += 1;
    checked += 1;
  }
  return { ok: true, checked, last: { seq: expected - 1, chainHash: Buffer.from(previous) } };
}

function isHash(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && value.length === HASH_SIZE;
}
