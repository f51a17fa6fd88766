// RFC 6962 §2.1 Merkle Tree Hash (Certificate Transparency), SHA-256.
//
//   MTH({})      = SHA-256()                              (the empty string)
//   MTH({d0})    = SHA-256(0x00 || d0)                     leafHash
//   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   nodeHash, k = largest power of
//                                                                  two smaller than n
//
// All functions here take leaf HASHES (the output of `leafHash`), not leaf data, except
// `leafHash` itself. Sizes and indices are plain numbers; arithmetic avoids 32-bit bitwise
// operators so trees beyond 2^31 leaves stay correct.

import { hash, timingSafeEqual } from 'node:crypto';

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// One scratch buffer for the prefixed input: crypto.hash() is about twice as fast as
// createHash().update().update().digest() for small inputs, and copying into scratch avoids an
// allocation per hash. Safe because everything here is synchronous.
const SCRATCH_LIMIT = 64 * 1024;
let scratch = Buffer.allocUnsafe(4096);

function prefixedHash(prefix: number, a: Buffer, b?: Buffer): Buffer {
  const length = 1 + a.length + (b ? b.length : 0);
  if (length > SCRATCH_LIMIT) {
    return hash('sha256', Buffer.concat(b ? [Buffer.of(prefix), a, b] : [Buffer.of(prefix), a]), 'buffer');
  }
  if (length > scratch.length) scratch = Buffer.allocUnsafe(SCRATCH_LIMIT);
  scratch[0] = prefix;
  a.copy(scratch, 1);
  if (b) b.copy(scratch, 1 + a.length);
  return hash('sha256', scratch.subarray(0, length), 'buffer');
}

/** SHA-256 of `data` (one shot). */
export function sha256(data: Buffer | string): Buffer {
  return hash('sha256', data, 'buffer');
}

/** The root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = sha256(Buffer.alloc(0));

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Buffer): Buffer {
  return prefixedHash(LEAF_PREFIX, data);
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return prefixedHash(NODE_PREFIX, left, right);
}

/** Largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function assertHash(value: Buffer, what: string): void {
  if (!Buffer.isBuffer(value) || value.length !== HASH_SIZE) {
    throw new TypeError(`${what} must be a ${HASH_SIZE}-byte Buffer`);
  }
}

function subtreeRoot(leaves: readonly Buffer[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return leaves[start];
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/** RFC 6962 Merkle Tree Hash over the given leaf hashes. */
export function merkleRoot(leafHashes: readonly Buffer[]): Buffer {
  if (leafHashes.length === 0) return Buffer.from(EMPTY_ROOT);
  leafHashes.forEach((leaf, i) => assertHash(leaf, `leafHashes[${i}]`));
  return subtreeRoot(leafHashes, 0, leafHashes.length);
}

/**
 * RFC 6962 §2.1.1 audit path PATH(m, D[n]) for the leaf at `index` (0-based): the sibling
 * hashes from the leaf upwards.
 */
export function inclusionProof(index: number, leafHashes: readonly Buffer[]): Buffer[] {
  const n = leafHashes.length;
  if (!Number.isSafeInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`inclusionProof: index ${index} outside a tree of ${n} leaves`);
  }
  leafHashes.forEach((leaf, i) => assertHash(leaf, `leafHashes[${i}]`));
  const path: Buffer[] = [];
  // Walk down from the root collecting the sibling subtree at each split; reverse at the end.
  let start = 0;
  let end = n;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      path.push(subtreeRoot(leafHashes, start + k, end));
      end = start + k;
    } else {
      path.push(subtreeRoot(leafHashes, start, start + k));
      start += k;
      m -= k;
    }
  }
  return path.reverse();
}

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2, the algorithm for RFC 6962 §2.1.1 paths).
 * Returns false, never throws, for anything malformed (sizes, index, hash lengths).
 */
export function verifyInclusion(leaf: Buffer, index: number, treeSize: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize)) return false;
  if (index < 0 || index >= treeSize) return false;
  if (!isHash(leaf) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && timingSafeEqual(r, root);
}

function isHash(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && value.length === HASH_SIZE;
}

export interface MerkleFrontierJson {
  size: number;
  /** Roots of the perfect subtrees, largest (leftmost) first, one per set bit of `size`. */
  hashes: string[];
}

/**
 * The right edge of an RFC 6962 tree (a "compact range" [0, size)): the roots of the perfect
 * subtrees that the binary representation of `size` decomposes the tree into, largest first.
 * Appending costs O(log n) amortised (one hash per carry), the root O(log n); the state is at
 * most 53 hashes. This is what the log's writer keeps so it can publish a tree head with each
 * checkpoint without reading the log back.
 */
export class MerkleFrontier {
  private readonly hashes: Buffer[];
  private count: number;

  constructor() {
    this.hashes = [];
    this.count = 0;
  }

  get size(): number {
    return this.count;
  }

  append(leaf: Buffer): void {
    assertHash(leaf, 'leaf hash');
    let node: Buffer = Buffer.from(leaf);
    // Each trailing 1 bit of the old size is a perfect subtree of the same height as the
    // carry: merge them, as in binary addition.
    let s = this.count;
    while (s % 2 === 1) {
      node = nodeHash(this.hashes.pop() as Buffer, node);
      s = Math.floor(s / 2);
    }
    this.hashes.push(node);
    this.count += 1;
  }

  root(): Buffer {
    if (this.hashes.length === 0) return Buffer.from(EMPTY_ROOT);
    let r = this.hashes[this.hashes.length - 1];
    for (let i = this.hashes.length - 2; i >= 0; i--) r = nodeHash(this.hashes[i], r);
    return Buffer.from(r);
  }

  clone(): MerkleFrontier {
    return MerkleFrontier.fromJSON(this.toJSON());
  }

  toJSON(): MerkleFrontierJson {
    return { size: this.count, hashes: this.hashes.map((h) => h.toString('hex')) };
  }

  static fromJSON(json: MerkleFrontierJson): MerkleFrontier {
    if (typeof json !== 'object' || json === null) throw new TypeError('MerkleFrontier: not an object');
    const { size, hashes } = json;
    if (!Number.isSafeInteger(size) || size < 0) throw new TypeError('MerkleFrontier: bad size');
    if (!Array.isArray(hashes) || hashes.length !== popcount(size)) {
      throw new TypeError('MerkleFrontier: need one hash per set bit of size');
    }
    const frontier = new MerkleFrontier();
    for (const h of hashes) {
      if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) {
        throw new TypeError('MerkleFrontier: hashes must be 64 lower-case hex digits');
      }
      frontier.hashes.push(Buffer.from(h, 'hex'));
    }
    frontier.count = size;
    return frontier;
  }
}

function popcount(n: number): number {
  let bits = 0;
  while (n > 0) {
    bits += n % 2;
    n = Math.floor(n / 2);
  }
  return bits;
}
