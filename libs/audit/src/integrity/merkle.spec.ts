import { randomBytes } from 'node:crypto';

import { EMPTY_ROOT, inclusionProof, leafHash, merkleRoot, nodeHash, verifyInclusion } from './merkle.js';
import { MerkleFrontier } from './merkle-range.js';

// Published RFC 6962 test vectors (Certificate Transparency's reference tests, as carried by
// Google's Trillian and transparency-dev/merkle):
// - leaves, roots for sizes 0..8 and every complete-subtree node hash: google/trillian
//   merkle/testonly/constants.go (commit 54870a44b0531d1bad40b7a1a1f926253e41be56), functions
//   LeafInputs, RootHashes, NodeHashes, CompactTrees;
// - inclusion proofs: transparency-dev/merkle proof/verify_test.go (commit
//   02194e9afb6c1d95b5381350007963aa70fff472), `inclusionProofs`, whose leaf numbers are 1-based
//   (the test calls VerifyInclusion with p.leaf - 1), so {1, 8} is index 0 of a tree of 8.
// The same tables originate in certificate-transparency's C++ merkle_tree_test.cc.

const h = (hex: string) => Buffer.from(hex, 'hex');
const hex = (b: Buffer) => b.toString('hex');

const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);

const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', // size 0
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', // size 1
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328', // size 8
];

// NodeHashes()[level][index]: level 0 are the leaf hashes.
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

// CompactTrees(): the frontier (largest subtree first) after each size, as NODES coordinates.
const COMPACT: [number, number][][] = [
  [],
  [[0, 0]],
  [[1, 0]],
  [
    [1, 0],
    [0, 2],
  ],
  [[2, 0]],
  [
    [2, 0],
    [0, 4],
  ],
  [
    [2, 0],
    [1, 2],
  ],
  [
    [2, 0],
    [1, 2],
    [0, 6],
  ],
  [[3, 0]],
];

// transparency-dev/merkle inclusionProofs, converted to 0-based indices.
const INCLUSION: { index: number; size: number; proof: string[] }[] = [
  {
    index: 0,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  { index: 0, size: 1, proof: [] },
];

const LEAVES = LEAF_INPUTS.map(leafHash);

describe('RFC 6962 hashing against published vectors', () => {
  it('the empty tree is SHA-256 of the empty string', () => {
    expect(hex(EMPTY_ROOT)).toBe(ROOTS[0]);
    expect(hex(merkleRoot([]))).toBe(ROOTS[0]);
    expect(hex(new MerkleFrontier().root())).toBe(ROOTS[0]);
  });

  it('leaf hashes (0x00 prefix) match the level-0 node hashes', () => {
    expect(LEAVES.map(hex)).toEqual(NODES[0]);
  });

  it('node hashes (0x01 prefix) match every published complete subtree', () => {
    for (let level = 1; level < NODES.length; level++) {
      NODES[level].forEach((expected, i) => {
        expect(hex(nodeHash(h(NODES[level - 1][2 * i]), h(NODES[level - 1][2 * i + 1])))).toBe(expected);
      });
    }
  });

  it.each(ROOTS.map((root, size) => [size, root] as const))('merkleRoot over %i leaves = %s', (size, root) => {
    expect(hex(merkleRoot(LEAVES.slice(0, size)))).toBe(root);
  });

  it('the frontier matches the published roots and compact trees after every append', () => {
    const frontier = new MerkleFrontier();
    for (let size = 0; size <= 8; size++) {
      if (size > 0) frontier.append(LEAVES[size - 1]);
      expect(frontier.size).toBe(size);
      expect(hex(frontier.root())).toBe(ROOTS[size]);
      expect(frontier.toJSON()).toEqual({ size, hashes: COMPACT[size].map(([level, i]) => NODES[level][i]) });
    }
  });

  it.each(INCLUSION)('inclusion proof for leaf $index of $size', ({ index, size, proof }) => {
    const leaves = LEAVES.slice(0, size);
    expect(inclusionProof(index, leaves).map(hex)).toEqual(proof);
    expect(verifyInclusion(LEAVES[index], index, size, proof.map(h), h(ROOTS[size]))).toBe(true);
  });

  it.each(INCLUSION.filter((v) => v.proof.length > 0))(
    'corrupted variants of the proof for leaf $index of $size fail (as in transparency-dev)',
    ({ index, size, proof: proofHex }) => {
      const proof = proofHex.map(h);
      const root = h(ROOTS[size]);
      const leaf = LEAVES[index];
      const someHash = h('abacaba000000000000000000000000000000000000000000060061e00123456');
      const probes: [number, number, Buffer, Buffer, Buffer[]][] = [
        [index - 1, size, root, leaf, proof],
        [index + 1, size, root, leaf, proof],
        [index ^ 2, size, root, leaf, proof],
        [index, size * 2, root, leaf, proof],
        [index, Math.floor(size / 2), root, leaf, proof],
        [index, size, root, Buffer.from('WrongLeaf'), proof],
        [index, size, EMPTY_ROOT, leaf, proof],
        [index, size, someHash, leaf, proof],
        [index, size, root, leaf, [...proof, Buffer.alloc(0)]],
        [index, size, root, leaf, [...proof, root]],
        [index, size, root, leaf, [Buffer.alloc(0), ...proof]],
        [index, size, root, leaf, [root, ...proof]],
        [index, size, root, leaf, proof.slice(0, -1)],
        [index, size, root, leaf, [proof[0], someHash, ...proof.slice(1)]],
        ...proof.map((_, i): [number, number, Buffer, Buffer, Buffer[]] => {
          const wrong = proof.map((p) => Buffer.from(p));
          wrong[i][0] ^= 8;
          return [index, size, root, leaf, wrong];
        }),
      ];
      for (const [i, n, r, l, p] of probes) expect(verifyInclusion(l, i, n, p, r)).toBe(false);
    },
  );
});

describe('Merkle tree, randomized against itself', () => {
  it('for sizes 1..70 the frontier root equals merkleRoot, every proof verifies, tampering fails', () => {
    const leaves: Buffer[] = [];
    const frontier = new MerkleFrontier();
    for (let size = 1; size <= 70; size++) {
      const leaf = leafHash(randomBytes(1 + (size % 40)));
      leaves.push(leaf);
      frontier.append(leaf);
      const root = merkleRoot(leaves);
      expect(hex(frontier.root())).toBe(hex(root));
      // JSON round trip keeps the state.
      expect(hex(MerkleFrontier.fromJSON(JSON.parse(JSON.stringify(frontier))).root())).toBe(hex(root));
      for (let index = 0; index < size; index++) {
        const proof = inclusionProof(index, leaves);
        expect(verifyInclusion(leaves[index], index, size, proof, root)).toBe(true);
        // A different leaf, a different index, a flipped bit in the proof: all fail.
        const otherLeaf = Buffer.from(leaves[index]);
        otherLeaf[31] ^= 1;
        expect(verifyInclusion(otherLeaf, index, size, proof, root)).toBe(false);
        if (size > 1) expect(verifyInclusion(leaves[index], (index + 1) % size, size, proof, root)).toBe(false);
        if (proof.length > 0) {
          const k = index % proof.length;
          const tampered = proof.map((p) => Buffer.from(p));
          tampered[k][k % 32] ^= 0x80;
          expect(verifyInclusion(leaves[index], index, size, tampered, root)).toBe(false);
          expect(verifyInclusion(leaves[index], index, size, proof.slice(1), root)).toBe(false);
        }
      }
    }
  });

  it('the frontier keeps appending from a restored state', () => {
    const leaves = Array.from({ length: 37 }, () => leafHash(randomBytes(16)));
    const first = new MerkleFrontier();
    leaves.slice(0, 21).forEach((l) => first.append(l));
    const restored = MerkleFrontier.fromJSON(first.toJSON());
    leaves.slice(21).forEach((l) => restored.append(l));
    expect(hex(restored.root())).toBe(hex(merkleRoot(leaves)));
    expect(restored.size).toBe(37);
  });

  it('rejects malformed input', () => {
    expect(() => MerkleFrontier.fromJSON({ size: 3, hashes: [ROOTS[1]] })).toThrow(TypeError);
    expect(() => MerkleFrontier.fromJSON({ size: 1, hashes: [ROOTS[1].toUpperCase()] })).toThrow(TypeError);
    expect(() => new MerkleFrontier().append(Buffer.alloc(31))).toThrow(TypeError);
    expect(() => inclusionProof(3, LEAVES.slice(0, 3))).toThrow(RangeError);
    expect(() => merkleRoot([Buffer.alloc(5)])).toThrow(TypeError);
    expect(verifyInclusion(LEAVES[0], 0, 0, [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(LEAVES[0], -1, 1, [], LEAVES[0])).toBe(false);
    expect(verifyInclusion(LEAVES[0], 0, 1, [], LEAVES[0])).toBe(true);
    expect(verifyInclusion(LEAVES[0], 0, 1, [], Buffer.alloc(0))).toBe(false);
  });

  it('works past 2^31 leaves (arithmetic, not 32-bit bit operators)', () => {
    // A proof for the last leaf of a tree of 2^32 + 1 leaves: the last leaf's sibling path is
    // the single left subtree root of 2^32 leaves. Build a fake one and check verification walks
    // sizes correctly (a 32-bit shift would wrap and fail).
    const left = leafHash(Buffer.from('left'));
    const last = leafHash(Buffer.from('last'));
    const size = 2 ** 32 + 1;
    expect(verifyInclusion(last, size - 1, size, [left], nodeHash(left, last))).toBe(true);
  });
});
