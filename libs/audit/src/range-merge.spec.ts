// The merge: ranges verified apart (in workers, or one after another) and joined in order give
// the verdict one pass over the whole log gives, seams and checkpoints (signatures, chain hashes,
// Merkle roots inside and on the edges of ranges) included. No database: rows are encoded as
// binary COPY (test/support/audit-copy.ts) and split the way verifyAuditLog splits them.
import { generateKeyPairSync } from 'node:crypto';

import { contents, copyOf, feed, hex, rechain, type Row, rowsOf } from '../../../test/support/audit-copy.js';
import { GENESIS, leafHash, merkleRoot, recordBytes, type SignedCheckpoint, signCheckpoint } from './integrity/index.js';
import { RangeMerge, splitRanges } from './range-merge.js';
import { RangeVerifier } from './range-verifier.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' });

interface Verdict {
  ok: boolean;
  checked: number;
  lastSeq: number;
  checkpointsVerified: number;
  firstBadSeq?: number;
  reason?: string;
}

/**
 * What verifyAuditLog does with the records in the database, minus the database: ranges over
 * first..last (each but the last read to its end), each from its predecessor's STORED chain hash
 * unless `views` hands a range different rows (another snapshot, a forgery), joined in order.
 */
function verifyLog(
  rows: readonly Row[],
  options: {
    ranges?: number;
    checkpoints?: SignedCheckpoint[];
    start?: { seq: number; chainHash: string };
    views?: Record<number, { predecessor?: Row; rows?: Row[] }>;
    chunks?: number[];
  } = {},
): Verdict {
  const checkpoints = new Map<number, SignedCheckpoint[]>();
  for (const c of options.checkpoints ?? []) checkpoints.set(c.seq, [...(checkpoints.get(c.seq) ?? []), c]);
  const merge = new RangeMerge(options.start ?? { seq: 0, chainHash: hex(GENESIS) }, checkpoints, key.publicKey);
  const first = merge.point.seq + 1;
  const last = Math.max(...rows.map((r) => r.seq), first - 1);
  if (last >= first) {
    const ranges = splitRanges(first, last, options.ranges ?? 1);
    for (const [k, range] of ranges.entries()) {
      const view = options.views?.[k] ?? {};
      const predecessors = rows.filter((r) => r.seq === range.first - 1);
      const predecessor = view.predecessor ?? (predecessors.length === 1 ? predecessors[0] : undefined);
      // As in verifyAuditLog: a range without a single predecessor row is never needed, since
      // the range before it fails first (it must reach that row).
      if (k > 0 && !predecessor) throw new Error(`range ${k} has no single predecessor, yet the range before it passed`);
      const start = k === 0 ? merge.point : { seq: range.first - 1, chainHash: hex(predecessor!.chainHash) };
      const mine = view.rows ?? rows.filter((r) => r.seq >= range.first && (range.last === undefined || r.seq <= range.last));
      const verifier = new RangeVerifier(merge.spec(start, range.last !== undefined ? { last: range.last } : {}));
      feed(verifier, copyOf(mine), options.chunks);
      if (!merge.add(verifier.result())) break;
    }
  }
  const verdict: Verdict = { ok: merge.ok, checked: merge.checked, lastSeq: merge.lastSeq, checkpointsVerified: merge.verified };
  if (merge.failure) Object.assign(verdict, { firstBadSeq: merge.failure.seq, reason: merge.failure.reason });
  return verdict;
}

/** A checkpoint over rows[0..seq-1] signed by `signer` (the audit key unless said otherwise). */
function checkpointAt(rows: readonly Row[], seq: number, overrides: { rootHash?: string; chainHash?: string } = {}, signer = key.privateKey): SignedCheckpoint {
  const leaves = rows.slice(0, seq).map((r) => leafHash(r.canonical));
  return signCheckpoint(
    {
      seq,
      chainHash: overrides.chainHash ?? hex(rows[seq - 1].chainHash),
      rootHash: overrides.rootHash ?? hex(merkleRoot(leaves)),
      signedAt: '2026-11-23T09:00:00.000Z',
    },
    signer,
    'audit',
  );
}

// ---------------------------------------------------------------------------------------------

describe('splitRanges', () => {
  it('covers first..last contiguously, the last range open, never more ranges than records', () => {
    expect(splitRanges(1, 10, 3)).toEqual([{ first: 1, last: 3 }, { first: 4, last: 6 }, { first: 7 }]);
    expect(splitRanges(5, 6, 4)).toEqual([{ first: 5, last: 5 }, { first: 6 }]);
    expect(splitRanges(1, 1_000_000, 1)).toEqual([{ first: 1 }]);
  });
});

describe('RangeMerge: ranges verified apart give the verdict of one pass', () => {
  const rows = rowsOf(contents(60));
  const checkpoints = [checkpointAt(rows, 12), checkpointAt(rows, 20), checkpointAt(rows, 31), checkpointAt(rows, 45), checkpointAt(rows, 60)];

  it('an intact log, checkpoints inside ranges and on their seams, roots included', () => {
    for (let ranges = 1; ranges <= 7; ranges++) {
      expect(verifyLog(rows, { ranges, checkpoints })).toEqual({ ok: true, checked: 60, lastSeq: 60, checkpointsVerified: 5 });
    }
    // 60 records in 3 ranges: 1-20, 21-40, 41-60, so checkpoint 20 sits on a seam.
    expect(splitRanges(1, 60, 3)[0]).toEqual({ first: 1, last: 20 });
  });

  it('every kind of failure in any range is reported at its first bad record, with the counts up to it', () => {
    const cases: Array<[string, (r: Row[]) => Row[], Partial<Verdict>]> = [
      ['a changed column', (r) => ((r[36].actor = 'x'), r), { firstBadSeq: 37, reason: 'columns', checked: 36, checkpointsVerified: 3, lastSeq: 36 }],
      [
        'rewritten bytes',
        (r) => ((r[8].canonical = Buffer.from(r[8].canonical.toString().replace('clerk', 'clerc'))), r),
        { firstBadSeq: 9, reason: 'hash', checked: 8, checkpointsVerified: 0 },
      ],
      ['a deleted record', (r) => r.filter((x) => x.seq !== 50), { firstBadSeq: 50, reason: 'gap', checked: 49, checkpointsVerified: 4 }],
      ['a repeated record', (r) => [...r.slice(0, 25), r[24], ...r.slice(25)], { firstBadSeq: 26, reason: 'order', checked: 25, checkpointsVerified: 2 }],
      [
        'two failures: the earlier wins',
        (r) => ((r[52].reason = 'x'), (r[14].actor = 'y'), r),
        { firstBadSeq: 15, reason: 'columns', checked: 14, checkpointsVerified: 1 },
      ],
    ];
    for (const [, edit, expected] of cases) {
      const single = verifyLog(edit(rows.map((r) => ({ ...r }))), { checkpoints });
      expect(single).toMatchObject({ ok: false, ...expected });
      for (let ranges = 2; ranges <= 6; ranges++) expect(verifyLog(edit(rows.map((r) => ({ ...r }))), { ranges, checkpoints })).toEqual(single);
    }
  });

  it('a deleted record right before a seam, or the seam record itself: the gap, not a crash', () => {
    // 3 ranges: 1-20, 21-40, 41-60. Without 20, range 1 ends short of its last record.
    for (const gone of [19, 20, 21, 40, 41]) {
      const without = rows.filter((r) => r.seq !== gone);
      expect(verifyLog(without, { ranges: 3, checkpoints: [] })).toMatchObject({ ok: false, firstBadSeq: gone, reason: 'gap', checked: gone - 1 });
    }
  });

  it('the seam: a range that starts from a predecessor hash the chain does not have fails at its first record', () => {
    // Range 2 (21-40) sees record 20 with another chain hash and records 21-40 chained from it,
    // consistent in themselves (another snapshot, or a forgery shown to one reader): only the
    // seam check can tell, since range 1 passes on the real record 20.
    const forged = { ...rows[19], chainHash: Buffer.alloc(32, 7) };
    const view = rows.slice(20, 40).map((r) => ({ ...r }));
    rechain(view, 0, forged.chainHash);
    const alone = new RangeVerifier({ start: { seq: 20, chainHash: hex(forged.chainHash) }, last: 40, merkle: true, marks: [] });
    feed(alone, copyOf(view));
    expect(alone.result().failure).toBeUndefined();
    expect(verifyLog(rows, { ranges: 3, checkpoints, views: { 1: { predecessor: forged, rows: view } } })).toEqual({
      ok: false,
      firstBadSeq: 21,
      reason: 'hash',
      checked: 20,
      lastSeq: 20,
      checkpointsVerified: 2,
    });
    // The same view with record 21 missing: one pass would see the gap first.
    expect(verifyLog(rows, { ranges: 3, views: { 1: { predecessor: forged, rows: view.slice(1) } } })).toMatchObject({ firstBadSeq: 21, reason: 'gap' });
  });

  it('a checkpoint whose root is not the tree head over the records before it (inside a later range) is a mismatch', () => {
    const wrongRoot = checkpointAt(rows, 45, { rootHash: hex(merkleRoot(rows.slice(0, 44).map((r) => leafHash(r.canonical)))) });
    for (let ranges = 1; ranges <= 5; ranges++) {
      expect(verifyLog(rows, { ranges, checkpoints: [checkpoints[0], checkpoints[2], wrongRoot] })).toEqual({
        ok: false,
        firstBadSeq: 32,
        reason: 'checkpoint-mismatch',
        checked: 44,
        lastSeq: 44,
        checkpointsVerified: 2,
      });
    }
  });

  it('a checkpoint signed by another key is reported after the last good checkpoint', () => {
    const forged = checkpointAt(rows, 33, {}, rogue.privateKey);
    for (let ranges = 1; ranges <= 4; ranges++) {
      expect(verifyLog(rows, { ranges, checkpoints: [checkpoints[0], forged] })).toMatchObject({
        ok: false,
        firstBadSeq: 13,
        reason: 'checkpoint-signature',
        checked: 32,
      });
    }
  });

  it('a whole chain rewritten with fresh hashes is caught at the first checkpoint it contradicts', () => {
    const rewritten = rows.map((r) => ({ ...r }));
    const content = JSON.parse(rewritten[4].canonical.toString('utf8'));
    rewritten[4].canonical = recordBytes({ ...content, actor: 'rewritten' });
    rewritten[4].actor = 'rewritten';
    rechain(rewritten, 4);
    for (let ranges = 1; ranges <= 4; ranges++) {
      expect(verifyLog(rewritten, { ranges, checkpoints })).toMatchObject({ ok: false, firstBadSeq: 1, reason: 'checkpoint-mismatch', checked: 11 });
    }
  });

  it('from a later start (no roots): the stored hash before it is taken as given, checkpoint chain hashes still checked', () => {
    const start = { seq: 30, chainHash: hex(rows[29].chainHash) };
    const tail = rows.slice(30);
    for (let ranges = 1; ranges <= 4; ranges++) {
      expect(verifyLog(tail, { ranges, start, checkpoints })).toEqual({ ok: true, checked: 30, lastSeq: 60, checkpointsVerified: 3 });
      const wrong = checkpointAt(rows, 45, { chainHash: hex(rows[43].chainHash) });
      expect(verifyLog(tail, { ranges, start, checkpoints: [wrong] })).toMatchObject({ ok: false, firstBadSeq: 31, reason: 'checkpoint-mismatch' });
    }
  });
});
