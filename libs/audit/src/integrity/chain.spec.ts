import { createHash } from 'node:crypto';

import { GENESIS, chainHash, chainLink, verifyChain, type ChainRecord } from './chain.js';
import { leafHash, merkleRoot } from './merkle.js';
import { MerkleFrontier } from './merkle-range.js';

function buildChain(count: number, firstSeq = 1, previous = GENESIS): ChainRecord[] {
  const records: ChainRecord[] = [];
  let prev = previous;
  for (let i = 0; i < count; i++) {
    const seq = firstSeq + i;
    const bytes = Buffer.from(JSON.stringify({ seq, action: 'lookup', subject: `s${seq % 7}` }));
    const link = chainLink(prev, bytes);
    records.push({ seq, bytes, chainHash: link.chainHash });
    prev = link.chainHash;
  }
  return records;
}

describe('chainHash', () => {
  it('is SHA-256(previous || leafHash(bytes)), starting from 32 zero bytes', () => {
    expect(GENESIS).toEqual(Buffer.alloc(32));
    const bytes = Buffer.from('{"seq":1}');
    const leaf = createHash('sha256')
      .update(Buffer.from([0]))
      .update(bytes)
      .digest();
    expect(leafHash(bytes)).toEqual(leaf);
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(leaf).digest();
    expect(chainHash(GENESIS, leaf)).toEqual(expected);
    expect(chainLink(GENESIS, bytes)).toEqual({ leafHash: leaf, chainHash: expected });
  });

  it('rejects hashes of the wrong length', () => {
    expect(() => chainHash(Buffer.alloc(31), Buffer.alloc(32))).toThrow(TypeError);
    expect(() => chainHash(Buffer.alloc(32), Buffer.alloc(33))).toThrow(TypeError);
  });
});

describe('verifyChain', () => {
  const records = buildChain(20);

  it('accepts an intact chain and reports the last point', () => {
    const result = verifyChain(records, { seq: 0, chainHash: GENESIS });
    expect(result).toEqual({ ok: true, checked: 20, last: { seq: 20, chainHash: records[19].chainHash } });
  });

  it('accepts an empty range', () => {
    expect(verifyChain([], { seq: 5, chainHash: records[4].chainHash })).toEqual({
      ok: true,
      checked: 0,
      last: { seq: 5, chainHash: records[4].chainHash },
    });
  });

  it('verifies a sub-range from the chain hash stored before it (how workers split a range)', () => {
    const middle = verifyChain(records.slice(7, 15), { seq: 7, chainHash: records[6].chainHash });
    expect(middle).toEqual({ ok: true, checked: 8, last: { seq: 15, chainHash: records[14].chainHash } });
    // Stitching: three ranges verified independently agree with one pass.
    const a = verifyChain(records.slice(0, 7), { seq: 0, chainHash: GENESIS });
    const c = verifyChain(records.slice(15), { seq: 15, chainHash: records[14].chainHash });
    expect(a.ok && middle.ok && c.ok).toBe(true);
    if (a.ok && middle.ok) {
      expect(a.last.chainHash).toEqual(records[6].chainHash);
      expect(middle.last.chainHash).toEqual(records[14].chainHash);
    }
  });

  it('works on any iterable, e.g. a generator', () => {
    function* rows() {
      yield* records;
    }
    expect(verifyChain(rows(), { seq: 0, chainHash: GENESIS }).ok).toBe(true);
  });

  it('feeds each verified leaf to onLeaf, so one pass also gives the Merkle root', () => {
    const frontier = new MerkleFrontier();
    const seqs: number[] = [];
    verifyChain(
      records,
      { seq: 0, chainHash: GENESIS },
      {
        onLeaf: (seq, leaf) => {
          seqs.push(seq);
          frontier.append(leaf);
        },
      },
    );
    expect(seqs).toEqual(records.map((r) => r.seq));
    expect(frontier.root()).toEqual(merkleRoot(records.map((r) => leafHash(r.bytes))));
  });

  it('a changed record is a hash failure at its seq', () => {
    const tampered = records.map((r) => ({ ...r }));
    tampered[9] = { ...tampered[9], bytes: Buffer.from(tampered[9].bytes.toString().replace('lookup', 'lookuP')) };
    expect(verifyChain(tampered, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 9, firstBadSeq: 10, reason: 'hash' });
  });

  it('a changed stored chain hash is a hash failure at its seq', () => {
    const tampered = records.map((r) => ({ ...r }));
    tampered[3] = { ...tampered[3], chainHash: Buffer.alloc(32, 1) };
    expect(verifyChain(tampered, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 3, firstBadSeq: 4, reason: 'hash' });
  });

  it('a rewritten record with its own chain hash recomputed fails at the next record', () => {
    const tampered = records.map((r) => ({ ...r }));
    const bytes = Buffer.from('{"forged":true}');
    tampered[4] = { seq: 5, bytes, chainHash: chainLink(records[3].chainHash, bytes).chainHash };
    expect(verifyChain(tampered, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 5, firstBadSeq: 6, reason: 'hash' });
  });

  it('a deleted record is a gap at its seq', () => {
    const deleted = records.filter((r) => r.seq !== 12);
    expect(verifyChain(deleted, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 11, firstBadSeq: 12, reason: 'gap' });
  });

  it('a deleted record whose seq was renumbered away is a hash failure where it was', () => {
    // Delete 12 and shift every later seq down by one: no gap, but the chain breaks at 12.
    const shifted = records.filter((r) => r.seq !== 12).map((r) => (r.seq > 12 ? { ...r, seq: r.seq - 1 } : r));
    expect(verifyChain(shifted, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 11, firstBadSeq: 12, reason: 'hash' });
  });

  it('two records swapped in order is an order/gap failure at the first', () => {
    const swapped = [...records];
    [swapped[7], swapped[8]] = [swapped[8], swapped[7]];
    // Row 9 arrives where 8 was expected: 8 is missing at that position.
    expect(verifyChain(swapped, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 7, firstBadSeq: 8, reason: 'gap' });
  });

  it('two records with swapped contents (seq kept) is a hash failure at the first', () => {
    const swapped = records.map((r) => ({ ...r }));
    swapped[7] = { ...records[8], seq: 8 };
    swapped[8] = { ...records[7], seq: 9 };
    expect(verifyChain(swapped, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 7, firstBadSeq: 8, reason: 'hash' });
  });

  it('a repeated seq is an order failure at the seq expected there', () => {
    const repeated = [...records.slice(0, 6), records[5], ...records.slice(6)];
    expect(verifyChain(repeated, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 6, firstBadSeq: 7, reason: 'order' });
  });

  it('a non-integer seq is an order failure', () => {
    const odd = records.map((r) => ({ ...r }));
    odd[2] = { ...odd[2], seq: Number.NaN };
    expect(verifyChain(odd, { seq: 0, chainHash: GENESIS })).toEqual({ ok: false, checked: 2, firstBadSeq: 3, reason: 'order' });
  });

  it('a range started from the wrong chain hash fails at its first record', () => {
    expect(verifyChain(records.slice(10), { seq: 10, chainHash: records[8].chainHash })).toEqual({
      ok: false,
      checked: 0,
      firstBadSeq: 11,
      reason: 'hash',
    });
  });

  it('a truncated tail still verifies; the last point tells the caller where it ends', () => {
    const result = verifyChain(records.slice(0, 10), { seq: 0, chainHash: GENESIS });
    expect(result.ok && result.last.seq).toBe(10);
  });

  it('refuses a malformed start', () => {
    expect(() => verifyChain(records, { seq: -1, chainHash: GENESIS })).toThrow(TypeError);
    expect(() => verifyChain(records, { seq: 0, chainHash: Buffer.alloc(8) })).toThrow(TypeError);
  });
});
