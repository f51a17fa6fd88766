// PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html, "Binary
// Format"), read in place: the verifier streams the audit log as `COPY (…) TO STDOUT (FORMAT
// binary)` because building a row object per record (text protocol, dates, arrays, hex bytea) was
// where the old verifier spent its time.
//
// The stream: an 11-byte signature, a 32-bit flags word and a 32-bit header-extension length
// followed by that many bytes; then one tuple per row, a 16-bit field count and, per field, a
// 32-bit length (-1 for NULL) followed by that many bytes; a field count of -1 ends the stream.
// Integers are big-endian. A tuple may span the chunks pg hands over: the unread rest of a chunk
// is kept and joined to the next one.
//
// Imports nothing but node: (it runs in the verification workers).

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Signature, flags, extension length. */
const HEADER_SIZE = SIGNATURE.length + 8;
const TRAILER = 0xffff;
const NO_BYTES = Buffer.alloc(0);

/**
 * Frames the tuples of a binary COPY stream of `fieldCount` fields without copying them: after
 * `nextTuple()` returns true, field f of the tuple is `buffer[offsets[f], offsets[f] + lengths[f])`
 * (lengths[f] is -1 for NULL), valid until the next `push`. Use: `push(chunk)`, `nextTuple()` until
 * false, then `release()` (or `discard()` to ignore the rest of the stream).
 */
export class BinaryCopyReader {
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /** The bytes the current tuple's offsets point into. */
  buffer: Buffer = NO_BYTES;
  private at = 0;
  private headerSeen = false;
  private trailerSeen = false;
  private pending?: Buffer;

  constructor(private readonly fieldCount: number) {
    this.offsets = new Int32Array(fieldCount);
    this.lengths = new Int32Array(fieldCount);
  }

  /** Starts on the next chunk, after what was left of the previous one. */
  push(chunk: Buffer): void {
    this.buffer = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    this.at = 0;
  }

  /** Frames the next complete tuple of the chunk; false when none is left. Throws on a stream that is not binary COPY of `fieldCount` fields. */
  nextTuple(): boolean {
    if (!this.headerSeen && !this.header()) return false;
    const { buffer, offsets, lengths, fieldCount } = this;
    const end = buffer.length;
    while (this.at + 2 <= end) {
      const fields = (buffer[this.at] << 8) | buffer[this.at + 1];
      if (fields === TRAILER) {
        this.trailerSeen = true;
        this.at += 2;
        continue;
      }
      if (fields !== fieldCount) throw new Error(`COPY: expected ${fieldCount} fields, got ${fields}`);
      let pos = this.at + 2;
      for (let f = 0; f < fieldCount; f++) {
        if (pos + 4 > end) return false;
        const length = int32At(buffer, pos);
        pos += 4;
        offsets[f] = pos;
        lengths[f] = length;
        if (length > 0) pos += length;
        if (pos > end) return false;
      }
      this.at = pos;
      return true;
    }
    return false;
  }

  /** Done with the chunk: keeps its unread rest for the next one (copied: pg reuses the chunk's memory). */
  release(): void {
    if (this.at < this.buffer.length) this.pending = Buffer.from(this.buffer.subarray(this.at));
  }

  /** Forgets what is left; the rest of the stream is ignored. */
  discard(): void {
    this.pending = undefined;
  }

  /** True when the stream ended properly: the trailer was seen and nothing is left over. */
  get complete(): boolean {
    return this.trailerSeen && !this.pending;
  }

  private header(): boolean {
    const buf = this.buffer;
    if (buf.length < HEADER_SIZE) return false;
    if (!buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('COPY: not a binary COPY stream');
    const extension = uint32At(buf, SIGNATURE.length + 4);
    if (buf.length < HEADER_SIZE + extension) return false;
    this.at = HEADER_SIZE + extension;
    this.headerSeen = true;
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Field readers for the binary send formats of the types the audit log uses. Plain arithmetic on
// bytes: Buffer's read methods check their arguments on every call.

export const int32At = (b: Buffer, at: number): number => (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
export const uint32At = (b: Buffer, at: number): number => int32At(b, at) >>> 0;
/** An int8 as a double (exact when it is a safe integer). */
export const int64At = (b: Buffer, at: number): number => int32At(b, at) * 4294967296 + uint32At(b, at + 4);

// 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds.
const PG_EPOCH_MS = 946_684_800_000;
/** The largest |time| a JavaScript Date holds, in milliseconds. */
export const MAX_DATE_MS = 8.64e15;

/** A timestamptz (int8 microseconds since 2000) as Unix milliseconds rounded down, as the pg driver gives them, without losing precision. */
export function timestampMsAt(b: Buffer, at: number): number {
  const high = int32At(b, at);
  const low = uint32At(b, at + 4);
  // high * 2^32 + low = 1000 * high * 4294967 + (high * 296 + low)
  return high * 4294967 + Math.floor((high * 296 + low) / 1000) + PG_EPOCH_MS;
}

/** A uuid as PostgreSQL writes it: lower-case hex, hyphenated 8-4-4-4-12. */
export function uuidTextAt(b: Buffer, at: number): string {
  const hex = b.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A text[] as the pg driver parses its text form: nested arrays per dimension (bounds ignored), NULL as null. */
export function textArrayAt(b: Buffer, at: number): unknown[] {
  // Header: dimensions, has-nulls flag, element type; then (size, lower bound) per dimension.
  const dims = int32At(b, at);
  if (dims === 0) return [];
  const sizes: number[] = [];
  for (let d = 0; d < dims; d++) sizes.push(int32At(b, at + 12 + d * 8));
  let element = at + 12 + dims * 8;
  const build = (d: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < sizes[d]; i++) {
      if (d < dims - 1) {
        out.push(build(d + 1));
        continue;
      }
      const length = int32At(b, element);
      element += 4;
      if (length < 0) out.push(null);
      else {
        out.push(b.toString('utf8', element, element + length));
        element += length;
      }
    }
    return out;
  };
  return build(0);
}
