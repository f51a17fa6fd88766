// The canonical-bytes check: every searchable column against the bytes that were hashed, the fast
// byte-for-byte path and the reference it falls back to, over one range verified from its binary
// COPY stream (how a changed column surfaces across ranges is in range-merge.spec.ts).
import { contents, copyOf, copyRows, feed, hex, PG_EPOCH_MS, rechain, type Row, rowsOf, uuid } from '../../../test/support/audit-copy.js';
import { GENESIS, recordBytes } from './integrity/index.js';
import { RangeVerifier } from './range-verifier.js';

interface Verdict {
  checked: number;
  lastSeq: number;
  firstBadSeq?: number;
  reason?: string;
}

function verdictOf(rows: readonly Row[]): Verdict {
  const verifier = new RangeVerifier({ start: { seq: 0, chainHash: hex(GENESIS) }, merkle: false, marks: [] });
  feed(verifier, copyOf(rows));
  const result = verifier.result();
  return { checked: result.checked, lastSeq: result.last.seq, ...(result.failure ? { firstBadSeq: result.failure.seq, reason: result.failure.reason } : {}) };
}

describe('the columns check (every searchable column against the hashed bytes)', () => {
  const base = rowsOf(contents(24));
  const seq = 14; // not null anywhere that matters below
  const verdictWith = (edit: (r: Row) => void): Verdict => {
    const rows = copyRows(base);
    edit(rows[seq - 1]);
    return verdictOf(rows);
  };
  const columns = { firstBadSeq: seq, reason: 'columns', checked: seq - 1 };
  const intact = { checked: 24, lastSeq: 24 };

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
    expect(verdictWith(edit)).toEqual(intact);
  });

  it('hashed bytes that are not canonical but say the same thing still agree (checked the slow way)', () => {
    const rows = base.map((r) => ({ ...r }));
    const content = JSON.parse(rows[seq - 1].canonical.toString('utf8'));
    // Other key order, spaces and an escaped letter: valid JSON of the same content.
    rows[seq - 1].canonical = Buffer.from(JSON.stringify({ seq: content.seq, ...content }, null, 1).replace('"lookup"', '"\\u006cookup"'));
    rechain(rows, seq - 1);
    expect(verdictOf(rows)).toEqual(intact);
    const other = base.map((r) => ({ ...r }));
    other[seq - 1].canonical = Buffer.from(JSON.stringify({ ...content, actor: 'nobody' }));
    rechain(other, seq - 1);
    expect(verdictOf(other)).toMatchObject(columns);
  });

  it('hashed bytes with a string left unescaped, or anything after the record, disagree (they are not JSON)', () => {
    const rows = copyRows(base);
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
      expect(verdictOf(copy)).toMatchObject({ firstBadSeq: at, reason: 'columns', checked: at - 1 });
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
      expect(verdictOf(copy)).toMatchObject({ firstBadSeq: 9, reason: 'columns', checked: 8 });
      // Written properly, the same value agrees.
      copy[8].canonical = recordBytes(content);
      rechain(copy, 8);
      expect(verdictOf(copy)).toEqual(intact);
    }
    // Whitespace after the record is still JSON of the same content.
    const spaced = rows.map((r) => ({ ...r }));
    spaced[8].canonical = Buffer.concat([spaced[8].canonical, Buffer.from(' \n')]);
    rechain(spaced, 8);
    expect(verdictOf(spaced)).toEqual(intact);
  });

  it('bytes that are not a JSON object, or a timestamp JavaScript cannot hold, disagree', () => {
    for (const canonical of ['null', '[]', '{"seq":', '"text"']) {
      const rows = base.map((r) => ({ ...r }));
      rows[seq - 1].canonical = Buffer.from(canonical);
      rechain(rows, seq - 1);
      expect(verdictOf(rows)).toMatchObject(columns);
    }
    for (const atRaw of [2n ** 63n - 1n, -(2n ** 63n), BigInt(8.64e15 - PG_EPOCH_MS + 1) * 1000n]) {
      const rows = base.map((r) => ({ ...r }));
      rows[seq - 1].atRaw = atRaw; // 'infinity', '-infinity', beyond Date's range
      expect(verdictOf(rows)).toMatchObject(columns);
    }
  });
});
