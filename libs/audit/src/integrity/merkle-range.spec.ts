// Compact ranges: the writer's frontier and the verifier's per-range trees are one structure, so
// both are checked here against the recursive RFC 6962 definition (merkleRoot), which shares
// nothing with them but the node hash. Published vectors for the frontier are in merkle.spec.ts.
import { leafHash, merkleRoot } from './merkle.js';
import { CompactRange, MerkleFrontier } from './merkle-range.js';

const hex = (b: Buffer): string => b.toString('hex');
const latin1 = (b: Buffer): string => b.toString('latin1');

let random = 42;
/** A small deterministic generator (the splits must be reproducible). */
function next(n: number): number {
  random = (random * 1103515245 + 12345) % 2147483648;
  return random % n;
}

describe('CompactRange', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`record ${i}`)));

  it('over leaves 0..n is the RFC 6962 tree head, as merkleRoot and MerkleFrontier compute it', () => {
    const range = new CompactRange(0);
    const frontier = new MerkleFrontier();
    expect(range.rootHex()).toBe(hex(merkleRoot([])));
    for (let n = 1; n <= leaves.length; n++) {
      range.push(latin1(leaves[n - 1]), 0);
      frontier.append(leaves[n - 1]);
      expect(range.rootHex()).toBe(hex(merkleRoot(leaves.slice(0, n))));
      expect(range.rootHex()).toBe(hex(frontier.root()));
    }
  });

  it('joins ranges built apart (any split, up to five parts) into the head over all of them', () => {
    for (let n = 1; n <= leaves.length; n++) {
      const expected = hex(merkleRoot(leaves.slice(0, n)));
      for (let parts = 2; parts <= 5; parts++) {
        for (let trial = 0; trial < 6; trial++) {
          const cuts = [0, ...Array.from({ length: parts - 1 }, () => next(n + 1)).sort((a, b) => a - b), n];
          const whole = new CompactRange(0);
          for (let p = 0; p < parts; p++) {
            const piece = new CompactRange(cuts[p]);
            for (let i = cuts[p]; i < cuts[p + 1]; i++) piece.push(latin1(leaves[i]), 0);
            whole.join(piece.nodes());
          }
          expect(whole.rootHex()).toBe(expected);
        }
      }
    }
  });

  it('a clone grows apart from its original', () => {
    const range = new CompactRange(0);
    leaves.slice(0, 5).forEach((leaf) => range.push(latin1(leaf), 0));
    const copy = range.clone();
    copy.push(latin1(leaves[5]), 0);
    expect(range.rootHex()).toBe(hex(merkleRoot(leaves.slice(0, 5))));
    expect(copy.rootHex()).toBe(hex(merkleRoot(leaves.slice(0, 6))));
  });
});

describe('MerkleFrontier', () => {
  it('restored from its JSON, holds one node per set bit of its size and keeps the same head', () => {
    const leaves = Array.from({ length: 45 }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
    const frontier = new MerkleFrontier();
    leaves.forEach((leaf) => frontier.append(leaf));
    // 45 = 32 + 8 + 4 + 1
    expect(frontier.toJSON().hashes).toHaveLength(4);
    const restored = MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(frontier)));
    expect(restored.size).toBe(45);
    expect(hex(restored.root())).toBe(hex(merkleRoot(leaves)));
    const copy = restored.clone();
    copy.append(leaves[0]);
    expect(hex(restored.root())).toBe(hex(merkleRoot(leaves)));
    expect(hex(copy.root())).toBe(hex(merkleRoot([...leaves, leaves[0]])));
  });
});
