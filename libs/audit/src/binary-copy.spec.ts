// PostgreSQL binary COPY framing and the field readers, on streams encoded as the server sends
// them (test/support/audit-copy.ts), cut into chunks anywhere as pg hands them over.
import { contents, copyOf, HEADER, PG_EPOCH_MS, rowBytes, rowsOf, TRAILER } from '../../../test/support/audit-copy.js';
import { COPY_COLUMNS, Field } from './audit-copy-row.js';
import { BinaryCopyReader, int32At, int64At, textArrayAt, timestampMsAt, uuidTextAt } from './binary-copy.js';

const rows = rowsOf(contents(30));

/** Every tuple of `copy` read through a reader in chunks of `size` bytes: its seq and canonical bytes. */
function framed(copy: Buffer, size: number, reader = new BinaryCopyReader(COPY_COLUMNS.length)): Array<[number, string]> {
  const tuples: Array<[number, string]> = [];
  for (let at = 0; at < copy.length; at += size) {
    reader.push(Buffer.from(copy.subarray(at, at + size)));
    while (reader.nextTuple()) {
      const { buffer, offsets, lengths } = reader;
      const canonical = buffer.toString('utf8', offsets[Field.canonical], offsets[Field.canonical] + lengths[Field.canonical]);
      tuples.push([int64At(buffer, offsets[Field.seq]), canonical]);
    }
    reader.release();
  }
  return tuples;
}

const int32 = (value: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
};

describe('BinaryCopyReader', () => {
  const expected = rows.map((r): [number, string] => [r.seq, r.canonical.toString('utf8')]);

  it('frames every tuple, whatever the chunks, and is complete only after the trailer', () => {
    const copy = copyOf(rows);
    for (const size of [1, 2, 3, 7, 19, 64, 1000, copy.length]) {
      const reader = new BinaryCopyReader(COPY_COLUMNS.length);
      expect(framed(copy, size, reader)).toEqual(expected);
      expect(reader.complete).toBe(true);
    }
    const cut = new BinaryCopyReader(COPY_COLUMNS.length);
    expect(framed(copy.subarray(0, copy.length - 2), 5, cut)).toEqual(expected);
    expect(cut.complete).toBe(false);
    const partial = new BinaryCopyReader(COPY_COLUMNS.length);
    framed(Buffer.concat([copy, rowBytes(rows[0]).subarray(0, 9)]), 100, partial);
    expect(partial.complete).toBe(false);
  });

  it('skips a header extension', () => {
    const extended = Buffer.concat([HEADER.subarray(0, HEADER.length - 4), int32(5), Buffer.from('12345'), ...rows.map(rowBytes), TRAILER]);
    expect(framed(extended, 3)).toEqual(expected);
  });

  it('refuses what is not binary COPY, or tuples of another width', () => {
    const text = new BinaryCopyReader(COPY_COLUMNS.length);
    text.push(Buffer.from('1\t{"v":1}\n2\t{"v":1}\n\\.\n'));
    expect(() => text.nextTuple()).toThrow('COPY: not a binary COPY stream');
    const narrow = new BinaryCopyReader(COPY_COLUMNS.length);
    narrow.push(Buffer.concat([HEADER, Buffer.from([0, 1]), int32(2), Buffer.from('ok'), TRAILER]));
    expect(() => narrow.nextTuple()).toThrow(`COPY: expected ${COPY_COLUMNS.length} fields, got 1`);
  });

  it('NULL fields have length -1 and take no bytes', () => {
    const reader = new BinaryCopyReader(3);
    reader.push(Buffer.concat([HEADER, Buffer.from([0, 3]), int32(-1), int32(2), Buffer.from('hi'), int32(-1), TRAILER]));
    expect(reader.nextTuple()).toBe(true);
    expect([...reader.lengths]).toEqual([-1, 2, -1]);
    expect(reader.buffer.toString('utf8', reader.offsets[1], reader.offsets[1] + 2)).toBe('hi');
    expect(reader.nextTuple()).toBe(false);
    expect(reader.complete).toBe(true);
  });
});

describe('field readers', () => {
  it('int4 and int8, negative and beyond 32 bits', () => {
    const bytes = Buffer.alloc(12);
    bytes.writeInt32BE(-7, 0);
    bytes.writeBigInt64BE(-(2n ** 40n) - 3n, 4);
    expect(int32At(bytes, 0)).toBe(-7);
    expect(int64At(bytes, 4)).toBe(-(2 ** 40) - 3);
    bytes.writeBigInt64BE(2n ** 53n - 1n, 4);
    expect(int64At(bytes, 4)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('timestamptz as Unix milliseconds rounded down, as the pg driver gives them, before and after 2000', () => {
    const bytes = Buffer.alloc(8);
    for (const [iso, micros] of [
      ['2026-11-23T08:00:00.137Z', 999],
      ['1999-12-31T23:59:59.999Z', 1],
      ['1970-01-01T00:00:00.000Z', 0],
      ['2000-01-01T00:00:00.000Z', 500],
    ] as const) {
      bytes.writeBigInt64BE(BigInt(Date.parse(iso) - PG_EPOCH_MS) * 1000n + BigInt(micros), 0);
      expect(new Date(timestampMsAt(bytes, 0)).toISOString()).toBe(iso);
    }
  });

  it('uuid as PostgreSQL writes it, text[] as the pg driver parses it', () => {
    const uuid = '6f1c8e9e-3f7a-4d2b-9a61-0c2b3e4d5f60';
    expect(uuidTextAt(Buffer.concat([Buffer.from([1, 2]), Buffer.from(uuid.replace(/-/g, ''), 'hex')]), 2)).toBe(uuid);
    const element = (text: string | null): Buffer => (text === null ? int32(-1) : Buffer.concat([int32(Buffer.byteLength(text)), Buffer.from(text)]));
    const twoByTwo = Buffer.concat([int32(2), int32(1), int32(25), int32(2), int32(1), int32(2), int32(0), ...['a', null, 'ü', 'd'].map(element)]);
    expect(textArrayAt(twoByTwo, 0)).toEqual([
      ['a', null],
      ['ü', 'd'],
    ]);
    expect(textArrayAt(Buffer.concat([int32(0), int32(0), int32(25)]), 0)).toEqual([]);
  });
});
