// The canonical-bytes check: do the searchable columns of a row agree with the canonical bytes
// that were hashed? The writer stores both (audit-log.ts); an edit to a column alone must fail.
//
// Why it matches bytes instead of parsing or re-canonicalising: re-canonicalising a record with a
// JSON canonicaliser costs ~10 µs, JSON.parse plus the comparisons several µs, while the floor
// is 200,000 records/s (docs/performance.md; ~310k measured on two cores) with the hashing taking
// its share. So the columns, as they sit in the binary COPY tuple, are compared byte for byte with
// the text RFC 8785 must have written for them: a version-1 record's keys in a fixed order, no
// spaces, strings quoted. A row that does not compare that way (a string JSON must escape, an
// unusual array, a value written otherwise but equal, or a real disagreement) is decoded and
// checked by `columnsAgree` (audit-copy-row.ts), the reference: the fast path may say "agrees"
// only where the reference would; its "no" is not a verdict.
//
// Imports only node: modules and types (it runs in the verification workers).

import { columnsAgree, decodeAuditRow, Field } from './audit-copy-row.js';
import { int32At, MAX_DATE_MS, timestampMsAt } from './binary-copy.js';
import type { AuditRecordContent } from './integrity/canonical.js';

// How a record's value is written, and so how its column is compared.
const TEXT = 0; // a JSON string, or null
const TIMESTAMP = 1; // Date.prototype.toISOString() of a timestamptz, quoted
const UUID_OR_NULL = 2; // a quoted uuid, or null
const TEXT_ARRAY = 3; // an array of JSON strings
const UUID = 4; // a quoted uuid
const INTEGER_OR_NULL = 5; // an int4, or null
const SEQ = 6; // the record's sequence number
const VERSION = 7; // the constant 1
const END = 8; // the closing brace, and nothing after it

// Which column each key of a version-1 record comes from. `satisfies` makes the compiler hold
// this to AuditRecordContent: a key added there and missing here fails the build.
const RECORD_LAYOUT = {
  v: [VERSION, 0],
  seq: [SEQ, Field.seq],
  id: [UUID, Field.id],
  at: [TIMESTAMP, Field.at],
  member: [TEXT, Field.member_id],
  actor: [TEXT, Field.actor],
  action: [TEXT, Field.action],
  source: [TEXT, Field.source_id],
  subject: [TEXT, Field.subject_hash],
  purpose: [TEXT, Field.purpose],
  caseId: [UUID_OR_NULL, Field.case_id],
  object: [TEXT, Field.object_ref],
  fields: [TEXT_ARRAY, Field.fields],
  decision: [TEXT, Field.decision],
  reason: [TEXT, Field.reason],
  latencyMs: [INTEGER_OR_NULL, Field.latency_ms],
  correlationId: [TEXT, Field.correlation_id],
} as const satisfies Record<keyof AuditRecordContent, readonly [number, number]>;

// What always surrounds a value of the kind: it joins the literal text around it.
const OPENING: Record<number, string> = { [TIMESTAMP]: '"', [UUID]: '"', [TEXT_ARRAY]: '[' };
const CLOSING: Record<number, string> = { [TIMESTAMP]: '"', [UUID]: '"', [TEXT_ARRAY]: ']' };

/**
 * The canonical text of a record as a program: steps of (literal text before a value, the value's
 * kind, its column). RFC 8785 §3.2.3 orders members by their names' UTF-16 code units, which is
 * what Array.prototype.sort compares; the names are ASCII, so JSON.stringify writes them as
 * RFC 8785 does. Yields e.g. `{"action":` TEXT, `,"actor":` TEXT, `,"at":"` TIMESTAMP,
 * `","caseId":` UUID_OR_NULL, …, `,"v":1}` END.
 */
function canonicalProgram(): Array<[string, number, number]> {
  const steps: Array<[string, number, number]> = [];
  let literal = '';
  for (const [i, name] of (Object.keys(RECORD_LAYOUT) as Array<keyof typeof RECORD_LAYOUT>).sort().entries()) {
    const [kind, field] = RECORD_LAYOUT[name];
    literal += `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`;
    if (kind === VERSION) {
      literal += '1';
      continue;
    }
    steps.push([literal + (OPENING[kind] ?? ''), kind, field]);
    literal = CLOSING[kind] ?? '';
  }
  steps.push([`${literal}}`, END, 0]);
  return steps;
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

// The program in flat typed arrays, for the loop that runs once per record.
const STEPS = canonicalProgram();
const LITERALS = ascii(STEPS.map(([literal]) => literal).join(''));
const LITERAL_START = Int32Array.from([0, ...STEPS.map((_, i) => STEPS.slice(0, i + 1).reduce((sum, [literal]) => sum + literal.length, 0))]);
// The literals as big-endian 32-bit words (compared four bytes at a time), then a tail of bytes.
const LITERAL_WORDS = Int32Array.from(
  STEPS.flatMap(([literal]) => Array.from({ length: literal.length >> 2 }, (_, i) => Buffer.from(literal.slice(4 * i, 4 * i + 4), 'latin1').readInt32BE(0))),
);
const LITERAL_WORD_START = Int32Array.from([0, ...STEPS.map((_, i) => STEPS.slice(0, i + 1).reduce((sum, [literal]) => sum + (literal.length >> 2), 0))]);
const STEP_KIND = Int32Array.from(STEPS.map(([, kind]) => kind));
const STEP_FIELD = Int32Array.from(STEPS.map(([, , field]) => field));
/** Bytes a JSON string must escape (RFC 8785 §3.2.2.2): controls, quote, backslash. */
const ESCAPED = Uint8Array.from({ length: 256 }, (_, c) => (c < 0x20 || c === 0x22 || c === 0x5c ? 1 : 0));
const HEX_DIGITS = ascii('0123456789abcdef');
const QUOTE = 0x22;
const COMMA = 0x2c;
const HYPHEN = 0x2d;
const ZERO = 0x30;
const LETTER_Z = 0x5a;

/** The check for one stream of tuples (it caches per stream: the timestamp text of the current second, a view of the current chunk). */
export class CanonicalCheck {
  /** Rows that went to the reference check (escaped strings, unusual arrays, disagreements). */
  slowRows = 0;
  // the ISO prefix "YYYY-MM-DDTHH:mm:ss." of one second: consecutive records share it
  private cachedSecond = Number.NaN;
  private cachedPrefix: Uint8Array = new Uint8Array(0);
  // a DataView of the ArrayBuffer under the current chunk, for reading four bytes at a time
  private view: DataView = new DataView(new ArrayBuffer(0) as ArrayBufferLike);
  private viewBuffer?: ArrayBufferLike;

  /** Whether the columns of the tuple framed in `bytes` agree with its canonical bytes, bytes[from, to). */
  agrees(bytes: Buffer, offsets: Int32Array, lengths: Int32Array, seq: number, from: number, to: number): boolean {
    if (this.matches(bytes, offsets, lengths, seq, from, to)) return true;
    this.slowRows += 1;
    return columnsAgree(decodeAuditRow(bytes, offsets, lengths));
  }

  /**
   * True when the columns, written as the canonical JSON writes them, are exactly the canonical
   * bytes; true implies that `columnsAgree` holds. One loop over the steps, since this runs for
   * every record; each case returns the position after the value, or -1 when it does not match.
   */
  private matches(bytes: Buffer, offsets: Int32Array, lengths: Int32Array, seq: number, from: number, to: number): boolean {
    if (bytes.buffer !== this.viewBuffer) {
      this.view = new DataView(bytes.buffer);
      this.viewBuffer = bytes.buffer;
    }
    const view = this.view;
    const base = bytes.byteOffset;
    let pos = from;
    for (let step = 0; step < STEPS.length; step++) {
      const literalFrom = LITERAL_START[step];
      const literalTo = LITERAL_START[step + 1];
      if (pos + (literalTo - literalFrom) > to) return false;
      const wordEnd = LITERAL_WORD_START[step + 1];
      for (let w = LITERAL_WORD_START[step]; w < wordEnd; w++, pos += 4) if (view.getInt32(base + pos) !== LITERAL_WORDS[w]) return false;
      for (let k = literalFrom + ((wordEnd - LITERAL_WORD_START[step]) << 2); k < literalTo; k++, pos++) if (bytes[pos] !== LITERALS[k]) return false;
      const fieldAt = offsets[STEP_FIELD[step]];
      const length = lengths[STEP_FIELD[step]];
      switch (STEP_KIND[step]) {
        case TEXT:
          if (length < 0) {
            if (!isNull(bytes, pos, to)) return false;
            pos += 4;
          } else {
            if (pos + length + 2 > to || bytes[pos] !== QUOTE || bytes[pos + length + 1] !== QUOTE || !sameText(view, bytes, base, fieldAt, pos + 1, length))
              return false;
            pos += length + 2;
          }
          break;
        case TIMESTAMP:
          if (length !== 8 || (pos = this.timestamp(bytes, pos, to, fieldAt)) < 0) return false;
          break;
        case UUID_OR_NULL:
          if (length < 0) {
            if (!isNull(bytes, pos, to)) return false;
            pos += 4;
          } else {
            if (length !== 16 || pos + 38 > to || bytes[pos] !== QUOTE || bytes[pos + 37] !== QUOTE || !isUuid(bytes, pos + 1, fieldAt)) return false;
            pos += 38;
          }
          break;
        case TEXT_ARRAY:
          if ((pos = textArray(view, bytes, base, pos, to, fieldAt, length)) < 0) return false;
          break;
        case UUID:
          if (length !== 16 || pos + 36 > to || !isUuid(bytes, pos, fieldAt)) return false;
          pos += 36;
          break;
        case INTEGER_OR_NULL:
          if (length < 0) {
            if (!isNull(bytes, pos, to)) return false;
            pos += 4;
          } else if (length !== 4 || (pos = integer(bytes, pos, to, int32At(bytes, fieldAt))) < 0) return false;
          break;
        case SEQ:
          if ((pos = integer(bytes, pos, to, seq)) < 0) return false;
          break;
        default:
          return pos === to;
      }
    }
    return false;
  }

  /** `Date.prototype.toISOString()` of the timestamp (milliseconds, rounded down as the pg driver does) without the closing quote. */
  private timestamp(bytes: Buffer, pos: number, to: number, fieldAt: number): number {
    const ms = timestampMsAt(bytes, fieldAt);
    if (!(Math.abs(ms) <= MAX_DATE_MS)) return -1;
    const second = Math.floor(ms / 1000);
    if (second !== this.cachedSecond) {
      const iso = new Date(second * 1000).toISOString();
      this.cachedPrefix = ascii(iso.slice(0, -4));
      this.cachedSecond = second;
    }
    const prefix = this.cachedPrefix;
    if (pos + prefix.length + 4 > to) return -1;
    for (let i = 0; i < prefix.length; i++, pos++) if (bytes[pos] !== prefix[i]) return -1;
    const milli = ms - second * 1000;
    if (
      bytes[pos] !== ZERO + Math.floor(milli / 100) ||
      bytes[pos + 1] !== ZERO + (Math.floor(milli / 10) % 10) ||
      bytes[pos + 2] !== ZERO + (milli % 10) ||
      bytes[pos + 3] !== LETTER_Z
    )
      return -1;
    return pos + 4;
  }
}

/**
 * The `length` bytes at `fieldAt` (a text value) equal those at `pos` and need no escaping in
 * JSON. Four bytes at a time: equality, then whether any byte is < 0x20, '"' or '\\' (the "has a
 * zero byte" trick from Bit Twiddling Hacks; exact for the question "any such byte").
 */
function sameText(view: DataView, bytes: Buffer, base: number, fieldAt: number, pos: number, length: number): boolean {
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const word = view.getInt32(base + fieldAt + i);
    if (word !== view.getInt32(base + pos + i)) return false;
    const quote = word ^ 0x22222222;
    const backslash = word ^ 0x5c5c5c5c;
    if ((((word - 0x20202020) & ~word) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) & 0x80808080) return false;
  }
  for (; i < length; i++) {
    const c = bytes[fieldAt + i];
    if (ESCAPED[c] !== 0 || bytes[pos + i] !== c) return false;
  }
  return true;
}

function isNull(bytes: Buffer, pos: number, to: number): boolean {
  return pos + 4 <= to && bytes[pos] === 0x6e && bytes[pos + 1] === 0x75 && bytes[pos + 2] === 0x6c && bytes[pos + 3] === 0x6c;
}

/** The 36 characters PostgreSQL writes for the uuid at `fieldAt` (lower-case, hyphenated) are at `pos`. */
function isUuid(bytes: Buffer, pos: number, fieldAt: number): boolean {
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) {
      if (bytes[pos] !== HYPHEN) return false;
      pos += 1;
    }
    const byte = bytes[fieldAt + i];
    if (bytes[pos] !== HEX_DIGITS[byte >> 4] || bytes[pos + 1] !== HEX_DIGITS[byte & 15]) return false;
    pos += 2;
  }
  return true;
}

/** A JSON integer as ECMAScript writes it (no leading zeros, no exponent, no fraction). */
function integer(bytes: Buffer, pos: number, to: number, value: number): number {
  if (!Number.isSafeInteger(value)) return -1;
  let rest = value;
  if (rest < 0) {
    if (bytes[pos] !== HYPHEN) return -1;
    pos += 1;
    rest = -rest;
  }
  let digits = 1;
  for (let x = rest; x >= 10; x = Math.floor(x / 10)) digits += 1;
  if (pos + digits > to) return -1;
  for (let i = digits - 1; i >= 0; i--) {
    if (bytes[pos + i] !== ZERO + (rest % 10)) return -1;
    rest = Math.floor(rest / 10);
  }
  return pos + digits;
}

/** A one-dimensional text[] without NULLs (or an empty one) as the inside of a JSON array; bounds are ignored, as the pg driver ignores them. */
function textArray(view: DataView, bytes: Buffer, base: number, pos: number, to: number, fieldAt: number, length: number): number {
  // Header: dimensions, has-nulls flag, element type, then (size, lower bound) per dimension.
  if (length < 12) return -1;
  const dims = int32At(bytes, fieldAt);
  if (dims === 0) return pos;
  if (dims !== 1 || length < 20) return -1;
  const count = int32At(bytes, fieldAt + 12);
  let element = fieldAt + 20;
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      if (pos >= to || bytes[pos] !== COMMA) return -1;
      pos += 1;
    }
    const size = int32At(bytes, element);
    element += 4;
    if (size < 0 || pos + size + 2 > to || bytes[pos] !== QUOTE || bytes[pos + size + 1] !== QUOTE || !sameText(view, bytes, base, element, pos + 1, size))
      return -1;
    pos += size + 2;
    element += size;
  }
  return pos;
}
