// One range of the audit chain verified from its binary COPY stream (what each worker does), or
// from archived records: sequence, chain, columns, the compact Merkle range and the marks. The
// columns check itself is in canonical-check.spec.ts, the joining of ranges in range-merge.spec.ts.
import { copyOf, contents, feed, hex, rowsOf } from '../../../test/support/audit-copy.js';
import { GENESIS, leafHash, merkleRoot } from './integrity/index.js';
import { CompactRange } from './integrity/merkle-range.js';
import { type RangeResult, type RangeSpec, RangeVerifier } from './range-verifier.js';

function verifyRange(spec: RangeSpec, copy: Buffer, chunks?: number[]): RangeResult {
  const verifier = new RangeVerifier(spec);
  feed(verifier, copy, chunks);
  return verifier.result();
}

describe('RangeVerifier', () => {
  const rows = rowsOf(contents(48));
  const copy = copyOf(rows);
  const whole = { start: { seq: 0, chainHash: hex(GENESIS) }, merkle: true, marks: [] };

  it('verifies an intact log from its binary COPY, whatever the chunking', () => {
    const expected = verifyRange(whole, copy);
    expect(expected).toMatchObject({ checked: 48, last: { seq: 48, chainHash: hex(rows[47].chainHash) } });
    expect(expected.failure).toBeUndefined();
    // Only the records whose strings JSON escapes (quote, backslash, controls) took the slow check.
    const escaped = rows.filter((r) => [r.reason, ...(r.fields as string[])].some((s) => s !== null && /["\\\u0000-\u001f]/.test(s))).length;
    expect(escaped).toBeGreaterThan(5);
    expect(expected.slowRows).toBe(escaped);
    for (const chunks of [[1], [3, 7], [64], [500, 1], [11, 13, 17, 1000]]) expect(verifyRange(whole, copy, chunks)).toEqual(expected);
  });

  it('notes the chain hash and the compact range at each mark, whose head is the Merkle root at that seq', () => {
    const result = verifyRange({ ...whole, marks: [1, 17, 32, 48] }, copy);
    expect(result.marks.map((m) => m.seq)).toEqual([1, 17, 32, 48]);
    for (const mark of result.marks) {
      expect(mark.chainHash).toBe(hex(rows[mark.seq - 1].chainHash));
      const upTo = new CompactRange(0);
      upTo.join(mark.nodes!);
      expect(upTo.rootHex()).toBe(hex(merkleRoot(rows.slice(0, mark.seq).map((r) => leafHash(r.canonical)))));
    }
  });

  it('reads archived records (no columns) with the same chain and sequence checks', () => {
    const verifier = new RangeVerifier(whole);
    for (const r of rows) verifier.record(r.seq, r.canonical, r.chainHash);
    expect(verifier.result()).toEqual({ ...verifyRange(whole, copy), slowRows: 0 });
    const broken = new RangeVerifier(whole);
    for (const r of rows.slice(0, 5)) broken.record(r.seq, r.canonical, r.chainHash);
    broken.record(6, rows[5].canonical, Buffer.alloc(31));
    expect(broken.result().failure).toEqual({ seq: 6, reason: 'hash' });
  });

  it('a range that must reach its last record but ends before it: a gap at the first missing one', () => {
    expect(verifyRange({ ...whole, last: 50 }, copy).failure).toEqual({ seq: 49, reason: 'gap' });
    expect(verifyRange({ ...whole, last: 48 }, copy).failure).toBeUndefined();
  });

  it('a range from a later start: the stored hash before it is taken as given, the marks before it skipped', () => {
    const start = { seq: 30, chainHash: hex(rows[29].chainHash) };
    const result = verifyRange({ start, merkle: false, marks: [12, 40] }, copyOf(rows.slice(30)));
    expect(result).toMatchObject({ checked: 18, last: { seq: 48, chainHash: hex(rows[47].chainHash) }, marks: [{ seq: 40 }] });
    expect(result.nodes).toBeUndefined();
    expect(verifyRange({ start: { seq: 30, chainHash: hex(rows[28].chainHash) }, merkle: false, marks: [] }, copyOf(rows.slice(30))).failure).toEqual({
      seq: 31,
      reason: 'hash',
    });
  });

  it('stops at the first failure and ignores the rest of the stream; a stream cut short is not complete', () => {
    const repeated = copyOf([...rows.slice(0, 10), rows[9], ...rows.slice(10)]);
    const verifier = new RangeVerifier(whole);
    feed(verifier, repeated, [97]);
    expect(verifier.done).toBe(true);
    expect(verifier.result()).toMatchObject({ checked: 10, last: { seq: 10 }, failure: { seq: 11, reason: 'order' } });
    const cut = new RangeVerifier(whole);
    cut.write(copy.subarray(0, copy.length - 2));
    expect(cut.complete).toBe(false);
    cut.write(copy.subarray(copy.length - 2));
    expect(cut.complete).toBe(true);
  });

  it('refuses a malformed start', () => {
    expect(() => new RangeVerifier({ ...whole, start: { seq: -1, chainHash: hex(GENESIS) } })).toThrow(TypeError);
    expect(() => new RangeVerifier({ ...whole, start: { seq: 0, chainHash: 'AB'.repeat(32) } })).toThrow(TypeError);
  });
});
