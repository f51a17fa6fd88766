// The range verifier and the merge that the parallel audit verification is made of, without a
// database: rows are encoded exactly as PostgreSQL's binary COPY sends them (the COPY_COLUMNS),
// split into ranges the way verifyAuditLog splits them, verified one range at a time (what each
// worker does) and joined by RangeMerge (what the main thread does). Every verdict is compared
// with the one a single pass over the whole log gives.
import { generateKeyPairSync } from 'node:crypto';

import {
  type AuditRecordContent,
  chainLink,
  GENESIS,
  leafHash,
  MerkleFrontier,
  merkleRoot,
  recordBytes,
  type SignedCheckpoint,
  signCheckpoint,
} from './integrity/index.js';
import { RangeMerge, splitRanges } from './range-merge.js';
import { CompactRange, type RangeResult, RangeVerifier } from './range-verifier.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PG_EPOCH_MS = 946_684_800_000;

// ---------------------------------------------------------------------------------------------
// Rows as audit_event holds them, and their binary COPY encoding

type ArrayValue = string[] | { dims: number[]; lbounds?: number[]; items: Array<string | null> };

interface Row {
  seq: number;
  canonical: Buffer;
  chainHash: Buffer;
  id: string;
  at: Date;
  /** Microseconds added to `at` (the column holds microseconds, the record milliseconds). */
  atMicros?: number;
  /** The timestamptz exactly as stored (int8 microseconds since 2000), e.g. 'infinity'. */
  atRaw?: bigint;
  member: string;
  actor: string;
  action: string;
  source: string | null;
  subject: string | null;
  purpose: string | null;
  caseId: string | null;
  object: string | null;
  fields: ArrayValue;
  decision: string;
  reason: string | null;
  latency: number | null;
  correlation: string | null;
}

let random = 42;
/** A small deterministic generator (the tests must be reproducible). */
function next(n: number): number {
  random = (random * 1103515245 + 12345) % 2147483648;
  return random % n;
}

const uuid = (i: number): string => {
  const hex = (i * 2654435761 + 0x1234567).toString(16).padStart(12, '0').slice(-12);
  return `6f1c8e9e-3f7a-4d2b-9a61-${hex}`;
};

/** A log of `n` records with the variety the columns check must handle. */
function contents(n: number): AuditRecordContent[] {
  const reasons = [null, 'no grant', 'quoted "reason"', 'back\\slash', 'tab\there', 'line\nbreak', 'unicode 低保 ✓', '\u0001control'];
  return Array.from({ length: n }, (_, i) => {
    const seq = i + 1;
    return {
      v: 1,
      seq,
      id: uuid(seq),
      at: new Date(Date.UTC(2026, 10, 23, 8, 0, 0) + seq * 137).toISOString(),
      member: seq % 7 === 0 ? 'zj.longyou.民政局' : 'zj.demo.service-hall',
      actor: `clerk-${seq % 5}`,
      action: seq % 4 === 0 ? 'verify' : 'lookup',
      source: seq % 6 === 0 ? null : 'household',
      subject: seq % 9 === 0 ? null : `subject-${seq % 11}`,
      purpose: 'property-transfer',
      caseId: seq % 3 === 0 ? null : uuid(1000 + (seq % 4)),
      object: seq % 10 === 0 ? `grant:${uuid(seq)}` : null,
      fields: seq % 5 === 0 ? [] : seq % 8 === 0 ? ['name', 'say "hi"'] : ['name', 'address'],
      decision: seq % 5 === 0 ? 'denied' : 'allowed',
      reason: reasons[seq % reasons.length],
      latencyMs: seq % 6 === 0 ? null : (seq * 7) % 120,
      correlationId: seq % 2 === 0 ? `req-${seq}` : null,
    };
  });
}

/** The rows the writer stores: canonical bytes, chain hashes, searchable columns = the content. */
function rowsOf(records: readonly AuditRecordContent[], previous = GENESIS): Row[] {
  let chain = previous;
  return records.map((c) => {
    const canonical = recordBytes(c);
    chain = chainLink(chain, canonical).chainHash;
    return {
      seq: c.seq,
      canonical,
      chainHash: chain,
      id: c.id,
      at: new Date(c.at),
      member: c.member,
      actor: c.actor,
      action: c.action,
      source: c.source,
      subject: c.subject,
      purpose: c.purpose,
      caseId: c.caseId,
      object: c.object,
      fields: [...c.fields],
      decision: c.decision,
      reason: c.reason,
      latency: c.latencyMs,
      correlation: c.correlationId,
    };
  });
}

/** Recomputes the chain hashes from `from` on, as an administrator covering an edit would. */
function rechain(rows: Row[], fromIndex: number, previous: Buffer = fromIndex === 0 ? GENESIS : rows[fromIndex - 1].chainHash): void {
  let chain = previous;
  for (let i = fromIndex; i < rows.length; i++) {
    chain = chainLink(chain, rows[i].canonical).chainHash;
    rows[i].chainHash = chain;
  }
}

const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const field = (value: Buffer | null): Buffer => (value === null ? int32(-1) : Buffer.concat([int32(value.length), value]));
const text = (value: string | null): Buffer => field(value === null ? null : Buffer.from(value, 'utf8'));
const uuidBytes = (value: string | null): Buffer => field(value === null ? null : Buffer.from(value.replace(/-/g, ''), 'hex'));

function arrayBytes(value: ArrayValue): Buffer {
  const spec = Array.isArray(value) ? { dims: value.length === 0 ? [] : [value.length], items: value } : value;
  const lbounds = 'lbounds' in spec && spec.lbounds ? spec.lbounds : spec.dims.map(() => 1);
  const parts = [int32(spec.dims.length), int32(spec.items.some((x) => x === null) ? 1 : 0), int32(25)];
  spec.dims.forEach((size, d) => parts.push(int32(size), int32(lbounds[d])));
  for (const item of spec.items) parts.push(text(item));
  return Buffer.concat(parts);
}

function rowBytes(r: Row): Buffer {
  const seq = Buffer.alloc(8);
  seq.writeBigInt64BE(BigInt(r.seq));
  const at = Buffer.alloc(8);
  at.writeBigInt64BE(r.atRaw ?? BigInt(r.at.getTime() - PG_EPOCH_MS) * 1000n + BigInt(r.atMicros ?? 0));
  const latency = r.latency === null ? null : int32(r.latency);
  return Buffer.concat([
    Buffer.from([0, 18]),
    field(seq),
    field(r.canonical),
    field(r.chainHash),
    uuidBytes(r.id),
    field(at),
    text(r.member),
    text(r.actor),
    text(r.action),
    text(r.source),
    text(r.subject),
    text(r.purpose),
    uuidBytes(r.caseId),
    text(r.object),
    field(arrayBytes(r.fields)),
    text(r.decision),
    text(r.reason),
    field(latency),
    text(r.correlation),
  ]);
}

const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(0)]);
const TRAILER = Buffer.from([0xff, 0xff]);
const copyOf = (rows: readonly Row[]): Buffer => Buffer.concat([HEADER, ...rows.map(rowBytes), TRAILER]);

// ---------------------------------------------------------------------------------------------
// Verifying: one range, or the log split the way verifyAuditLog splits it

const hex = (b: Buffer): string => b.toString('hex');

/** Feeds `copy` in chunks of the given sizes (cycled), each a fresh Buffer as pg hands them over. */
function verifyRange(spec: ConstructorParameters<typeof RangeVerifier>[0], copy: Buffer, chunks: number[] = [copy.length]): RangeResult {
  const verifier = new RangeVerifier(spec);
  for (let at = 0, i = 0; at < copy.length; i++) {
    const size = Math.max(1, chunks[i % chunks.length]);
    verifier.write(Buffer.from(copy.subarray(at, at + size)));
    at += size;
  }
  return verifier.result();
}

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
      if (!merge.add(verifyRange(merge.spec(start, range.last !== undefined ? { last: range.last } : {}), copyOf(mine), options.chunks))) break;
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

describe('CompactRange', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => leafHash(Buffer.from(`record ${i}`)));
  const latin1 = (b: Buffer): string => b.toString('latin1');

  it('over leaves 0..n is the RFC 6962 tree head, as MerkleFrontier computes it', () => {
    const range = new CompactRange(0);
    const frontier = new MerkleFrontier();
    expect(range.rootHex()).toBe(hex(merkleRoot([])));
    for (let n = 1; n <= leaves.length; n++) {
      range.push(latin1(leaves[n - 1]), 0);
      frontier.append(leaves[n - 1]);
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
            whole.append(piece.nodes());
          }
          expect(whole.rootHex()).toBe(expected);
        }
      }
    }
  });
});

describe('splitRanges', () => {
  it('covers first..last contiguously, the last range open, never more ranges than records', () => {
    expect(splitRanges(1, 10, 3)).toEqual([{ first: 1, last: 3 }, { first: 4, last: 6 }, { first: 7 }]);
    expect(splitRanges(5, 6, 4)).toEqual([{ first: 5, last: 5 }, { first: 6 }]);
    expect(splitRanges(1, 1_000_000, 1)).toEqual([{ first: 1 }]);
  });
});

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
      upTo.append(mark.nodes!);
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
});

describe('the columns check (every searchable column against the hashed bytes)', () => {
  const base = rowsOf(contents(24));
  const seq = 14; // not null anywhere that matters below
  const verdictWith = (edit: (r: Row) => void): Verdict => {
    const rows = base.map((r) => ({ ...r, fields: Array.isArray(r.fields) ? [...r.fields] : r.fields }));
    edit(rows[seq - 1]);
    return verifyLog(rows, { ranges: 2 });
  };
  const columns = { ok: false, firstBadSeq: seq, reason: 'columns' };

  it.each<[string, (r: Row) => void]>([
    ['id', (r) => (r.id = uuid(999))],
    ['at (a millisecond later)', (r) => (r.at = new Date(r.at.getTime() + 1))],
    ['member', (r) => (r.member = 'zj.other')],
    ['actor', (r) => (r.actor = 'nobody')],
    ['actor (one byte longer)', (r) => (r.actor += ' ')],
    ['action', (r) => (r.action = 'lookuq')],
    ['source (to null)', (r) => (r.source = null)],
    ['subject', (r) => (r.subject = 'subject-0')],
    ['purpose', (r) => (r.purpose = null)],
    ['caseId', (r) => (r.caseId = uuid(7))],
    ['object (from null)', (r) => (r.object = 'grant:x')],
    ['fields (order)', (r) => (r.fields = ['address', 'name'])],
    ['fields (one more)', (r) => (r.fields = ['name', 'address', 'income'])],
    ['fields (a NULL)', (r) => (r.fields = { dims: [2], items: ['name', null] })],
    ['fields (two dimensions)', (r) => (r.fields = { dims: [1, 2], items: ['name', 'address'] })],
    ['decision', (r) => (r.decision = 'denied')],
    ['reason', (r) => (r.reason = 'because')],
    ['latency', (r) => (r.latency = 999)],
    ['latency (to null)', (r) => (r.latency = null)],
    ['correlation id', (r) => (r.correlation = 'req-0')],
  ])('a changed %s is found at that record', (_, edit) => {
    expect(verdictWith(edit)).toMatchObject(columns);
  });

  it.each<[string, (r: Row) => void]>([
    // pg's driver gave the verifier milliseconds (rounded down), and ignores array bounds: the
    // verdicts stay as they were.
    ['a timestamp off by microseconds only', (r) => (r.atMicros = 999)],
    ['an array with lower bound 0', (r) => (r.fields = { dims: [2], lbounds: [0], items: r.fields as string[] })],
  ])('%s still agrees, as it always did', (_, edit) => {
    expect(verdictWith(edit)).toEqual({ ok: true, checked: 24, lastSeq: 24, checkpointsVerified: 0 });
  });

  it('hashed bytes that are not canonical but say the same thing still agree (checked the slow way)', () => {
    const rows = base.map((r) => ({ ...r }));
    const content = JSON.parse(rows[seq - 1].canonical.toString('utf8'));
    // Other key order, spaces and an escaped letter: valid JSON of the same content.
    rows[seq - 1].canonical = Buffer.from(JSON.stringify({ seq: content.seq, ...content }, null, 1).replace('"lookup"', '"\\u006cookup"'));
    rechain(rows, seq - 1);
    expect(verifyLog(rows, { ranges: 3 })).toEqual({ ok: true, checked: 24, lastSeq: 24, checkpointsVerified: 0 });
    const other = base.map((r) => ({ ...r }));
    other[seq - 1].canonical = Buffer.from(JSON.stringify({ ...content, actor: 'nobody' }));
    rechain(other, seq - 1);
    expect(verifyLog(other, { ranges: 3 })).toMatchObject(columns);
  });

  it('hashed bytes with a string left unescaped, or anything after the record, disagree (they are not JSON)', () => {
    const rows = base.map((r) => ({ ...r, fields: Array.isArray(r.fields) ? [...r.fields] : r.fields }));
    const edits: Array<[number, (json: string) => string]> = [
      [3, (json) => json.replace('back\\\\slash', 'back\\slash')],
      [2, (json) => json.replace('quoted \\"reason\\"', 'quoted "reason"')],
      [8, (json) => json.replace('say \\"hi\\"', 'say "hi"')],
      [4, (json) => json.replace('tab\\there', 'tab\there')],
      [5, (json) => json.replace('line\\nbreak', 'line\nbreak')],
      [7, (json) => json.replace('\\u0001control', '\u0001control')],
      [9, (json) => `${json}x`],
    ];
    for (const [at, edit] of edits) {
      const copy = rows.map((r) => ({ ...r }));
      const json = copy[at - 1].canonical.toString('utf8');
      expect(edit(json)).not.toBe(json);
      copy[at - 1].canonical = Buffer.from(edit(json), 'utf8');
      rechain(copy, at - 1);
      expect(verifyLog(copy, { ranges: 2 })).toMatchObject({ ok: false, firstBadSeq: at, reason: 'columns' });
    }
    // The same with the only such byte among the last one to three of the value.
    for (const [value, written] of [
      ['ab"', 'ab\\"'],
      ['ab\\', 'ab\\\\'],
      ['ab\u0002', 'ab\\u0002'],
    ]) {
      const copy = rows.map((r) => ({ ...r }));
      const content = { ...JSON.parse(copy[8].canonical.toString('utf8')), reason: value };
      const json = recordBytes(content).toString('utf8');
      expect(json).toContain(`"reason":"${written}"`);
      copy[8].reason = value;
      copy[8].canonical = Buffer.from(json.replace(`"reason":"${written}"`, `"reason":"${value}"`), 'utf8');
      rechain(copy, 8);
      expect(verifyLog(copy, { ranges: 2 })).toMatchObject({ ok: false, firstBadSeq: 9, reason: 'columns' });
      // Written properly, the same value agrees.
      copy[8].canonical = recordBytes(content);
      rechain(copy, 8);
      expect(verifyLog(copy, { ranges: 2 })).toMatchObject({ ok: true });
    }
    // Whitespace after the record is still JSON of the same content.
    const spaced = rows.map((r) => ({ ...r }));
    spaced[8].canonical = Buffer.concat([spaced[8].canonical, Buffer.from(' \n')]);
    rechain(spaced, 8);
    expect(verifyLog(spaced, { ranges: 2 })).toMatchObject({ ok: true, checked: 24 });
  });

  it('bytes that are not a JSON object, or a timestamp JavaScript cannot hold, disagree', () => {
    for (const canonical of ['null', '[]', '{"seq":', '"text"']) {
      const rows = base.map((r) => ({ ...r }));
      rows[seq - 1].canonical = Buffer.from(canonical);
      rechain(rows, seq - 1);
      expect(verifyLog(rows)).toMatchObject(columns);
    }
    for (const atRaw of [2n ** 63n - 1n, -(2n ** 63n), BigInt(8.64e15 - PG_EPOCH_MS + 1) * 1000n]) {
      const rows = base.map((r) => ({ ...r }));
      rows[seq - 1].atRaw = atRaw; // 'infinity', '-infinity', beyond Date's range
      expect(verifyLog(rows)).toMatchObject(columns);
    }
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
    const rangesOk = verifyRange({ start: { seq: 20, chainHash: hex(forged.chainHash) }, last: 40, merkle: true, marks: [] }, copyOf(view));
    expect(rangesOk.failure).toBeUndefined();
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
