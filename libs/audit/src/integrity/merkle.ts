// RFC 6962 §2.1 Merkle Tree Hash (Certificate Transparency), SHA-256.
//
//   MTH({})      = SHA-256()                              (the empty string)
//   MTH({d0})    = SHA-256(0x00 || d0)                     leafHash
//   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   nodeHash, k = largest power of
//                                                                  two smaller than n
//
// All functions here take leaf HASHES (the output of `leafHash`), not leaf data, except the two
// leaf-hash functions, which take the record's bytes. Sizes and indices are plain numbers;
// arithmetic avoids 32-bit bitwise operators so trees beyond 2^31 leaves stay correct.
//
// A hash has three forms, each where it is cheapest: a Buffer at the edges (bytea columns, archive
// files, proofs), lower-case hex in JSON (checkpoints, the frontier, reports), and a latin1 string
// (one char per byte) inside the loops that hash once or more per record, the writer's and the
// verifier's. On the 2-core machine (Node 24, depending on load) crypto.hash into a Buffer costs
// ~1.1-2.7 µs (a fresh ArrayBuffer each time), into a latin1 string ~0.36-0.6 µs. So every hash
// here is computed once, by the `…Latin1` functions ('binary' is Node's name for latin1 as a hash
// output), and the Buffer functions convert the result: Buffer.from of 32 latin1 chars takes a
// slice of Node's pool, which together still costs less than a Buffer from crypto.hash.

import { hash, timingSafeEqual } from 'node:crypto';

export const HASH_SIZE = 32;

/** A hash in its Buffer form: a Buffer of HASH_SIZE bytes. */
export function isHash(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && value.length === HASH_SIZE;
}

export function assertHash(value: unknown, what: string): asserts value is Buffer {
  if (!isHash(value)) throw new TypeError(`${what} must be a ${HASH_SIZE}-byte Buffer`);
}

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

// Scratch buffers for the prefixed inputs: copying into them avoids an allocation per hash, and
// crypto.hash() is about twice as fast as createHash().update().digest() for small inputs. Safe
// because everything here is synchronous.
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = NODE_PREFIX;
let leafInput = Buffer.alloc(64 * 1024);
// Views of leafInput by length, made once: subarray() per record would allocate.
let leafViews: Array<Buffer | undefined> = [];

export const latin1ToHex = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('hex');
export const hexToLatin1 = (hex: string): string => Buffer.from(hex, 'hex').toString('latin1');

/** RFC 6962 leaf hash SHA-256(0x00 || bytes[from, to)), latin1. */
export function leafHashLatin1(bytes: Buffer, from = 0, to = bytes.length): string {
  const length = to - from + 1;
  if (length > leafInput.length) {
    leafInput = Buffer.alloc(Math.max(length, leafInput.length * 2));
    leafInput[0] = LEAF_PREFIX;
    leafViews = [];
  }
  bytes.copy(leafInput, 1, from, to);
  let view = leafViews[length];
  if (view === undefined) view = leafViews[length] = leafInput.subarray(0, length);
  return hash('sha256', view, 'binary');
}

/** RFC 6962 interior node hash SHA-256(0x01 || left || right), latin1 in and out. */
export function nodeHashLatin1(left: string, right: string): string {
  for (let i = 0; i < HASH_SIZE; i++) {
    nodeInput[1 + i] = left.charCodeAt(i);
    nodeInput[1 + HASH_SIZE + i] = right.charCodeAt(i);
  }
  return hash('sha256', nodeInput, 'binary');
}

/** SHA-256 of `data` (one shot). */
export function sha256(data: Buffer | string): Buffer {
  return hash('sha256', data, 'buffer');
}

/** The root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = sha256(Buffer.alloc(0));

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Buffer): Buffer {
  return Buffer.from(leafHashLatin1(data), 'latin1');
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  assertHash(left, 'nodeHash: left');
  assertHash(right, 'nodeHash: right');
  return Buffer.from(nodeHashLatin1(left.toString('latin1'), right.toString('latin1')), 'latin1');
}

/** Largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
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
