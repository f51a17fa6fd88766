// Compact ranges of an RFC 6962 tree: the one structure behind the writer's Merkle frontier and
// the verifier's per-range trees.
//
// The leaves [begin, end) of a tree are covered by maximal aligned perfect subtrees; their roots,
// left to right, are the range's compact form (at most ~2 log n hashes). Appending a node merges
// it with its left sibling while that sibling is the last node held, as in binary addition, so:
// - [0, n) holds one root per set bit of n, largest first: the writer's frontier, from which it
//   publishes a tree head with each checkpoint without reading the log back (MerkleFrontier);
// - ranges built apart join into the range over both: each verification worker keeps one for its
//   records and the main thread joins them in order (range-merge.ts).
// Hashes are latin1 strings here (see merkle.ts); MerkleFrontier speaks Buffer and hex.

import { assertHash, EMPTY_ROOT, hexToLatin1, latin1ToHex, nodeHashLatin1 } from './merkle.js';

/** A compact range as plain data (it crosses to and from worker threads): roots left to right, latin1, with their heights. */
export interface CompactNodes {
  readonly hashes: string[];
  readonly levels: number[];
}

export class CompactRange {
  readonly hashes: string[] = [];
  readonly levels: number[] = [];

  /** An empty range that starts (and ends) at leaf `end`. */
  constructor(public end: number) {}

  /** Appends the root (latin1) of the perfect subtree of height `level` that starts at `end`. */
  push(hash: string, level: number): void {
    const size = 2 ** level;
    let node = hash;
    let height = level;
    // Plain arithmetic, not 32-bit bit operators: logs beyond 2^31 leaves stay correct.
    let index = this.end / size;
    while (index % 2 === 1 && this.levels.length > 0 && this.levels[this.levels.length - 1] === height) {
      node = nodeHashLatin1(this.hashes.pop() as string, node);
      this.levels.pop();
      height += 1;
      index = (index - 1) / 2;
    }
    this.hashes.push(node);
    this.levels.push(height);
    this.end += size;
  }

  /** Appends a range that starts where this one ends. */
  join(nodes: CompactNodes): void {
    for (let i = 0; i < nodes.hashes.length; i++) this.push(nodes.hashes[i], nodes.levels[i]);
  }

  nodes(): CompactNodes {
    return { hashes: [...this.hashes], levels: [...this.levels] };
  }

  clone(): CompactRange {
    const copy = new CompactRange(this.end);
    copy.hashes.push(...this.hashes);
    copy.levels.push(...this.levels);
    return copy;
  }

  /** The RFC 6962 tree head, latin1, of a range that starts at leaf 0. */
  root(): string {
    if (this.hashes.length === 0) return EMPTY_ROOT.toString('latin1');
    let root = this.hashes[this.hashes.length - 1];
    for (let i = this.hashes.length - 2; i >= 0; i--) root = nodeHashLatin1(this.hashes[i], root);
    return root;
  }

  /** The tree head in hex, as checkpoints carry it. */
  rootHex(): string {
    return latin1ToHex(this.root());
  }
}

export interface MerkleFrontierJson {
  size: number;
  /** Roots of the perfect subtrees, largest (leftmost) first, one per set bit of `size`. */
  hashes: string[];
}

/**
 * The right edge of an RFC 6962 tree, [0, size): what the log's writer keeps (as JSON on the
 * chain head) so it can publish a tree head with each checkpoint. A CompactRange from leaf 0 with
 * Buffer leaves and a hex JSON form. Appending costs O(log n) amortised (one hash per carry).
 */
export class MerkleFrontier {
  private range = new CompactRange(0);

  get size(): number {
    return this.range.end;
  }

  append(leaf: Buffer): void {
    assertHash(leaf, 'leaf hash');
    this.range.push(leaf.toString('latin1'), 0);
  }

  root(): Buffer {
    return Buffer.from(this.range.root(), 'latin1');
  }

  clone(): MerkleFrontier {
    const copy = new MerkleFrontier();
    copy.range = this.range.clone();
    return copy;
  }

  toJSON(): MerkleFrontierJson {
    return { size: this.range.end, hashes: this.range.hashes.map(latin1ToHex) };
  }

  static fromJSON(json: MerkleFrontierJson): MerkleFrontier {
    if (typeof json !== 'object' || json === null) throw new TypeError('MerkleFrontier: not an object');
    const { size, hashes } = json;
    if (!Number.isSafeInteger(size) || size < 0) throw new TypeError('MerkleFrontier: bad size');
    const levels = setBits(size);
    if (!Array.isArray(hashes) || hashes.length !== levels.length) {
      throw new TypeError('MerkleFrontier: need one hash per set bit of size');
    }
    const frontier = new MerkleFrontier();
    for (const [i, hex] of hashes.entries()) {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
        throw new TypeError('MerkleFrontier: hashes must be 64 lower-case hex digits');
      }
      frontier.range.hashes.push(hexToLatin1(hex));
      frontier.range.levels.push(levels[i]);
    }
    frontier.range.end = size;
    return frontier;
  }
}

/** The set bits of n (the heights of its frontier's subtrees), highest first. */
function setBits(n: number): number[] {
  const bits: number[] = [];
  for (let level = 0, rest = n; rest > 0; level++, rest = Math.floor(rest / 2)) if (rest % 2 === 1) bits.unshift(level);
  return bits;
}
