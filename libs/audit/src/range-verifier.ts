// Verifies one contiguous range of the audit chain from rows streamed by PostgreSQL's binary COPY
// (or from archived records), one record at a time, without building a row object per record.
// A worker thread runs one of these per range (verify-worker.ts); verifyAuditLog runs one in its
// own thread when it does not use workers; RangeMerge (range-merge.ts) stitches the ranges.
//
// Why it looks the way it does (measured on the 2-core machine, 1M records, see README
// "Performance"): the old verifier spent its time building row objects (text protocol, dates,
// arrays, hex bytea), JSON-parsing every record to compare the columns, and allocating a Buffer
// for every SHA-256 (crypto.hash into a Buffer costs ~1.1 µs, into a latin1 string ~0.36 µs).
// So here: binary COPY with one CopyData message per row, parsed in place; the searchable
// columns compared byte for byte with the canonical JSON they must reproduce, and only a row
// that does not compare (a string that JSON escapes, an unusual array, or a real disagreement)
// decoded and checked the old way by `columnsAgree`; hashes as 32-character latin1 strings.
//
// Imports only node: modules and types, so that a worker loads little.

import { hash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { AuditRecordContent } from './integrity/canonical.js';

export type RangeFailureReason = 'gap' | 'order' | 'hash' | 'columns';

/** What one range verifier is asked to do. Plain data: it crosses to a worker thread. */
export interface RangeSpec {
  /** The record before the range: its sequence number and the chain hash taken as given (hex). */
  readonly start: { readonly seq: number; readonly chainHash: string };
  /** The range's last record when the range must reach it (every range but the last); absent: up to the end of the stream. */
  readonly last?: number;
  /** The database range's last record when `last` is absent (a `to` limit): bounds the query, need not be reached. */
  readonly upTo?: number;
  /** Keep the compact Merkle range (the log is verified from record 1, so checkpoint roots are checked). */
  readonly merkle: boolean;
  /** Sequence numbers (ascending) at which to note the chain hash and the compact range: the checkpoints. */
  readonly marks: readonly number[];
}

/** Roots of the maximal perfect subtrees covering a leaf range, left to right, as latin1 strings. */
export interface CompactNodes {
  readonly hashes: string[];
  readonly levels: number[];
}

export interface RangeMark {
  readonly seq: number;
  /** The recomputed chain hash at `seq`, hex. */
  readonly chainHash: string;
  /** The compact range from the range's start up to and including `seq` (when `merkle`). */
  readonly nodes?: CompactNodes;
}

export interface RangeResult {
  readonly start: { readonly seq: number; readonly chainHash: string };
  /** Records that passed every check before the first failure. */
  readonly checked: number;
  /** The last record that passed (the start when none did), with its recomputed chain hash, hex. */
  readonly last: { readonly seq: number; readonly chainHash: string };
  readonly failure?: { readonly seq: number; readonly reason: RangeFailureReason };
  /** The compact range over the records that passed (when `merkle`). */
  readonly nodes?: CompactNodes;
  readonly marks: RangeMark[];
  /** Rows that needed the slow columns check (escaped strings, unusual arrays, disagreements). */
  readonly slowRows: number;
}

// ---------------------------------------------------------------------------------------------
// Hashing into latin1 ('binary') strings, one char per byte: no Buffer per hash.

const HASH_SIZE = 32;
const nodeScratch = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeScratch[0] = 0x01;
const chainScratch = Buffer.alloc(2 * HASH_SIZE);
let leafScratch = Buffer.alloc(64 * 1024);
let leafViews: Array<Buffer | undefined> = [];

/** RFC 6962 leaf hash SHA-256(0x00 || bytes[from, to)), latin1. */
function leafOf(bytes: Buffer, from: number, to: number): string {
  const length = to - from + 1;
  if (length > leafScratch.length) {
    leafScratch = Buffer.alloc(Math.max(length, leafScratch.length * 2));
    leafViews = [];
  }
  bytes.copy(leafScratch, 1, from, to);
  let view = leafViews[length];
  if (view === undefined) view = leafViews[length] = leafScratch.subarray(0, length);
  return hash('sha256', view, 'binary');
}

/** RFC 6962 node hash SHA-256(0x01 || left || right), latin1 in and out. */
export function nodeOf(left: string, right: string): string {
  for (let i = 0; i < HASH_SIZE; i++) {
    nodeScratch[1 + i] = left.charCodeAt(i);
    nodeScratch[1 + HASH_SIZE + i] = right.charCodeAt(i);
  }
  return hash('sha256', nodeScratch, 'binary');
}

/** The chain step SHA-256(previous || leaf), latin1 in and out. */
function chainOf(previous: string, leaf: string): string {
  for (let i = 0; i < HASH_SIZE; i++) {
    chainScratch[i] = previous.charCodeAt(i);
    chainScratch[HASH_SIZE + i] = leaf.charCodeAt(i);
  }
  return hash('sha256', chainScratch, 'binary');
}

function sameBytes(text: string, bytes: Buffer, at: number): boolean {
  for (let i = 0; i < HASH_SIZE; i++) if (text.charCodeAt(i) !== bytes[at + i]) return false;
  return true;
}

export const latin1ToHex = (text: string): string => Buffer.from(text, 'latin1').toString('hex');
export const hexToLatin1 = (hex: string): string => Buffer.from(hex, 'hex').toString('latin1');

// ---------------------------------------------------------------------------------------------
// Compact ranges (RFC 6962 trees): the nodes of a leaf range [begin, end) as maximal aligned
// perfect subtrees. Appending a node merges it with its left sibling while that sibling is the
// last node held, so ranges verified apart join into the range over both, and [0, n) gives the
// tree head: each worker keeps one for its records, the main thread joins them in order.

export class CompactRange {
  readonly hashes: string[] = [];
  readonly levels: number[] = [];

  constructor(public end: number) {}

  /** Appends the root of the perfect subtree of height `level` that starts at `end`. */
  push(hash: string, level: number): void {
    const size = 2 ** level;
    let node = hash;
    let height = level;
    let index = this.end / size;
    while (index % 2 === 1 && this.levels.length > 0 && this.levels[this.levels.length - 1] === height) {
      node = nodeOf(this.hashes.pop() as string, node);
      this.levels.pop();
      height += 1;
      index = (index - 1) / 2;
    }
    this.hashes.push(node);
    this.levels.push(height);
    this.end += size;
  }

  append(nodes: CompactNodes): void {
    for (let i = 0; i < nodes.hashes.length; i++) this.push(nodes.hashes[i], nodes.levels[i]);
  }

  nodes(): CompactNodes {
    return { hashes: [...this.hashes], levels: [...this.levels] };
  }

  clone(): CompactRange {
    const copy = new CompactRange(this.end);
    copy.hashes.push(...this.hashes);
    copy.levels.push(...this.levels);
    return copy;
  }

  /** The RFC 6962 tree head, hex, of a range that starts at leaf 0. */
  rootHex(): string {
    if (this.hashes.length === 0) return hash('sha256', Buffer.alloc(0), 'hex');
    let root = this.hashes[this.hashes.length - 1];
    for (let i = this.hashes.length - 2; i >= 0; i--) root = nodeOf(this.hashes[i], root);
    return latin1ToHex(root);
  }
}

// ---------------------------------------------------------------------------------------------
// The row the COPY statement sends (see range-copy.ts): field positions.

export const COPY_COLUMNS = [
  'seq::int8',
  'canonical::bytea',
  'chain_hash::bytea',
  'id::uuid',
  'at::timestamptz',
  'member_id::text',
  'actor::text',
  'action::text',
  'source_id::text',
  'subject_hash::text',
  'purpose::text',
  'case_id::uuid',
  'object_ref::text',
  'fields::text[]',
  'decision::text',
  'reason::text',
  'latency_ms::int4',
  'correlation_id::text',
] as const;
const F_SEQ = 0,
  F_CANONICAL = 1,
  F_CHAIN = 2,
  F_ID = 3,
  F_AT = 4,
  F_MEMBER = 5,
  F_ACTOR = 6,
  F_ACTION = 7,
  F_SOURCE = 8,
  F_SUBJECT = 9,
  F_PURPOSE = 10,
  F_CASE = 11,
  F_OBJECT = 12,
  F_FIELDS = 13,
  F_DECISION = 14,
  F_REASON = 15,
  F_LATENCY = 16,
  F_CORRELATION = 17;
const FIELD_COUNT = COPY_COLUMNS.length;

const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const COPY_HEADER = COPY_SIGNATURE.length + 8;
// 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix milliseconds.
const PG_EPOCH_MS = 946_684_800_000;
const MAX_DATE_MS = 8.64e15;

const i32 = (b: Buffer, o: number): number => (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
const u32 = (b: Buffer, o: number): number => i32(b, o) >>> 0;
/** An int8 as a double (exactly, when it is a safe integer). */
const i64 = (b: Buffer, o: number): number => i32(b, o) * 4294967296 + u32(b, o + 4);
/** A timestamptz (int8 microseconds since 2000) as Unix milliseconds rounded down, without losing precision. */
function timestampMs(b: Buffer, o: number): number {
  const hi = i32(b, o);
  const lo = u32(b, o + 4);
  // hi * 2^32 + lo = 1000 * hi * 4294967 + (hi * 296 + lo)
  return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000) + PG_EPOCH_MS;
}

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

// The canonical (RFC 8785) form of a version-1 record, keys in UTF-16 order and no spaces, as a
// program: each step is the literal text before a value, then the value's kind and column.
const TEXT = 0,
  TIME = 1,
  CASE_ID = 2,
  ARRAY = 3,
  ID = 4,
  LATENCY = 5,
  SEQ = 6,
  END = 7;
const STEPS: ReadonlyArray<readonly [string, number, number]> = [
  ['{"action":', TEXT, F_ACTION],
  [',"actor":', TEXT, F_ACTOR],
  [',"at":"', TIME, F_AT],
  ['","caseId":', CASE_ID, F_CASE],
  [',"correlationId":', TEXT, F_CORRELATION],
  [',"decision":', TEXT, F_DECISION],
  [',"fields":[', ARRAY, F_FIELDS],
  ['],"id":"', ID, F_ID],
  ['","latencyMs":', LATENCY, F_LATENCY],
  [',"member":', TEXT, F_MEMBER],
  [',"object":', TEXT, F_OBJECT],
  [',"purpose":', TEXT, F_PURPOSE],
  [',"reason":', TEXT, F_REASON],
  [',"seq":', SEQ, F_SEQ],
  [',"source":', TEXT, F_SOURCE],
  [',"subject":', TEXT, F_SUBJECT],
  [',"v":1}', END, 0],
];
const LITERALS = ascii(STEPS.map(([literal]) => literal).join(''));
const LITERAL_START = Int32Array.from([0, ...STEPS.map((_, i) => STEPS.slice(0, i + 1).reduce((n, [literal]) => n + literal.length, 0))]);
// The literals as big-endian 32-bit words (compared four bytes at a time), then a tail of bytes.
const LITERAL_WORDS = Int32Array.from(
  STEPS.flatMap(([literal]) => Array.from({ length: literal.length >> 2 }, (_, i) => Buffer.from(literal.slice(4 * i, 4 * i + 4), 'latin1').readInt32BE(0))),
);
const LITERAL_WORD_START = Int32Array.from([0, ...STEPS.map((_, i) => STEPS.slice(0, i + 1).reduce((n, [literal]) => n + (literal.length >> 2), 0))]);
const STEP_KIND = Int32Array.from(STEPS.map(([, kind]) => kind));
const STEP_FIELD = Int32Array.from(STEPS.map(([, , field]) => field));
/** Bytes a JSON string must escape (RFC 8785 §3.2.2.2): controls, quote, backslash. */
const ESCAPED = Uint8Array.from({ length: 256 }, (_, c) => (c < 0x20 || c === 0x22 || c === 0x5c ? 1 : 0));
const HEX = ascii('0123456789abcdef');
const QUOTE = 0x22;
const COMMA = 0x2c;
const ZERO = 0x30;

/**
 * One range's verifier. Feed it the COPY stream with `write` (chunks in any split) or archived
 * records with `record`, then call `result`. Stops checking at the first failure (the rest of the
 * stream is ignored). The checks per record and their order are those of verifyChain plus the
 * columns: sequence (gap/order), stored chain hash (hash), columns against the hashed bytes
 * (columns); then the Merkle leaf and the marks.
 */
export class RangeVerifier {
  private expected: number;
  private previous: string;
  private checkedCount = 0;
  private failed?: { seq: number; reason: RangeFailureReason };
  private readonly compact?: CompactRange;
  private readonly marks: RangeMark[] = [];
  private nextMark = 0;
  private slow = 0;
  // COPY framing
  private headerSeen = false;
  private trailerSeen = false;
  private pending?: Buffer;
  private readonly offsets = new Int32Array(FIELD_COUNT);
  private readonly lengths = new Int32Array(FIELD_COUNT);
  // timestamp text cache: the ISO prefix "YYYY-MM-DDTHH:mm:ss." of one second
  private cachedSecond = Number.NaN;
  private cachedPrefix: Uint8Array = new Uint8Array(0);
  // a DataView of the ArrayBuffer under the current chunk, for reading four bytes at a time
  private view: DataView = new DataView(new ArrayBuffer(0) as ArrayBufferLike);
  private viewBuffer?: ArrayBufferLike;

  constructor(private readonly spec: RangeSpec) {
    if (!Number.isSafeInteger(spec.start.seq) || spec.start.seq < 0) throw new TypeError('RangeVerifier: start.seq must be an integer >= 0');
    if (!/^[0-9a-f]{64}$/.test(spec.start.chainHash)) throw new TypeError('RangeVerifier: start.chainHash must be 64 hex digits');
    this.expected = spec.start.seq + 1;
    this.previous = hexToLatin1(spec.start.chainHash);
    if (spec.merkle) this.compact = new CompactRange(spec.start.seq);
    while (this.nextMark < spec.marks.length && spec.marks[this.nextMark] <= spec.start.seq) this.nextMark += 1;
  }

  get done(): boolean {
    return this.failed !== undefined;
  }

  /** An archived record (no searchable columns to compare). */
  record(seq: number, bytes: unknown, chainHash: unknown): void {
    if (this.failed) return;
    if (!this.sequence(seq)) return;
    if (!Buffer.isBuffer(bytes) || !Buffer.isBuffer(chainHash) || chainHash.length !== HASH_SIZE) return this.fail(seq, 'hash');
    const leaf = leafOf(bytes, 0, bytes.length);
    const chain = chainOf(this.previous, leaf);
    if (!sameBytes(chain, chainHash, 0)) return this.fail(seq, 'hash');
    this.passed(seq, leaf, chain);
  }

  /** A chunk of `COPY (…) TO STDOUT (FORMAT binary)` output with the COPY_COLUMNS. */
  write(chunk: Buffer): void {
    if (this.failed) return;
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    const end = buf.length;
    let at = 0;
    if (!this.headerSeen) {
      if (end < COPY_HEADER) return this.keep(buf, 0);
      if (!buf.subarray(0, COPY_SIGNATURE.length).equals(COPY_SIGNATURE)) throw new Error('COPY: not a binary COPY stream');
      const extension = u32(buf, COPY_SIGNATURE.length + 4);
      if (end < COPY_HEADER + extension) return this.keep(buf, 0);
      at = COPY_HEADER + extension;
      this.headerSeen = true;
    }
    const offsets = this.offsets;
    const lengths = this.lengths;
    while (at + 2 <= end && !this.failed) {
      const fields = (buf[at] << 8) | buf[at + 1];
      if (fields === 0xffff) {
        this.trailerSeen = true;
        at += 2;
        continue;
      }
      if (fields !== FIELD_COUNT) throw new Error(`COPY: expected ${FIELD_COUNT} fields, got ${fields}`);
      let p = at + 2;
      let complete = true;
      for (let f = 0; f < FIELD_COUNT; f++) {
        if (p + 4 > end) {
          complete = false;
          break;
        }
        const length = i32(buf, p);
        p += 4;
        offsets[f] = p;
        lengths[f] = length;
        if (length > 0) p += length;
        if (p > end) {
          complete = false;
          break;
        }
      }
      if (!complete) break;
      this.row(buf);
      at = p;
    }
    if (at < end && !this.failed) this.keep(buf, at);
  }

  /** The range's outcome, once the whole stream has been read (a range short of `last` is a gap). */
  result(): RangeResult {
    if (!this.failed && this.spec.last !== undefined && this.expected <= this.spec.last) this.fail(this.expected, 'gap');
    return {
      start: this.spec.start,
      checked: this.checkedCount,
      last: { seq: this.expected - 1, chainHash: latin1ToHex(this.previous) },
      ...(this.failed ? { failure: this.failed } : {}),
      ...(this.compact ? { nodes: this.compact.nodes() } : {}),
      marks: this.marks,
      slowRows: this.slow,
    };
  }

  /** True when the stream ended properly (the trailer was seen and nothing is left over). */
  get complete(): boolean {
    return this.trailerSeen && !this.pending;
  }

  private keep(buf: Buffer, from: number): void {
    // The chunk belongs to the pg parser, which reuses its buffer: copy what must wait.
    this.pending = Buffer.from(buf.subarray(from));
  }

  private fail(seq: number, reason: RangeFailureReason): void {
    this.failed = { seq, reason };
    this.pending = undefined;
  }

  private sequence(seq: number): boolean {
    if (seq === this.expected) return true;
    this.fail(this.expected, Number.isSafeInteger(seq) && seq > this.expected ? 'gap' : 'order');
    return false;
  }

  private passed(seq: number, leaf: string, chain: string): void {
    this.compact?.push(leaf, 0);
    this.previous = chain;
    this.expected += 1;
    this.checkedCount += 1;
    const marks = this.spec.marks;
    if (this.nextMark < marks.length && marks[this.nextMark] === seq) {
      this.marks.push({ seq, chainHash: latin1ToHex(chain), ...(this.compact ? { nodes: this.compact.nodes() } : {}) });
      this.nextMark += 1;
    }
  }

  private row(buf: Buffer): void {
    const offsets = this.offsets;
    const lengths = this.lengths;
    const seq = lengths[F_SEQ] === 8 ? i64(buf, offsets[F_SEQ]) : Number.NaN;
    if (!this.sequence(seq)) return;
    const cs = offsets[F_CANONICAL];
    const ce = cs + lengths[F_CANONICAL];
    if (lengths[F_CANONICAL] < 0 || lengths[F_CHAIN] !== HASH_SIZE) return this.fail(seq, 'hash');
    const leaf = leafOf(buf, cs, ce);
    const chain = chainOf(this.previous, leaf);
    if (!sameBytes(chain, buf, offsets[F_CHAIN])) return this.fail(seq, 'hash');
    if (!this.columnsMatch(buf, seq, cs, ce)) {
      this.slow += 1;
      if (!columnsAgree(decodeRow(buf, offsets, lengths))) return this.fail(seq, 'columns');
    }
    this.passed(seq, leaf, chain);
  }

  /**
   * True when the columns, written as the canonical JSON would write them, are exactly the hashed
   * bytes. False is not a verdict: the row then goes through `columnsAgree` (it may only need
   * escaping, or hold an unusual but equal value). True implies that `columnsAgree` holds.
   * One loop over STEPS, because this runs for every record.
   */
  private columnsMatch(b: Buffer, seq: number, cs: number, ce: number): boolean {
    const o = this.offsets;
    const l = this.lengths;
    if (b.buffer !== this.viewBuffer) {
      this.view = new DataView(b.buffer);
      this.viewBuffer = b.buffer;
    }
    const dv = this.view;
    const base = b.byteOffset;
    let p = cs;
    for (let step = 0; step < STEPS.length; step++) {
      const from = LITERAL_START[step];
      const to = LITERAL_START[step + 1];
      if (p + (to - from) > ce) return false;
      const wordEnd = LITERAL_WORD_START[step + 1];
      for (let w = LITERAL_WORD_START[step]; w < wordEnd; w++, p += 4) if (dv.getInt32(base + p) !== LITERAL_WORDS[w]) return false;
      for (let k = from + ((wordEnd - LITERAL_WORD_START[step]) << 2); k < to; k++, p++) if (b[p] !== LITERALS[k]) return false;
      const at = o[STEP_FIELD[step]];
      const n = l[STEP_FIELD[step]];
      switch (STEP_KIND[step]) {
        case TEXT:
          if (n < 0) {
            if (!isNull(b, p, ce)) return false;
            p += 4;
          } else {
            if (p + n + 2 > ce || b[p] !== QUOTE || b[p + n + 1] !== QUOTE || !sameText(dv, b, base, at, p + 1, n)) return false;
            p += n + 2;
          }
          break;
        case TIME:
          if (n !== 8 || (p = this.timestamp(b, p, ce, at)) < 0) return false;
          break;
        case CASE_ID:
          if (n < 0) {
            if (!isNull(b, p, ce)) return false;
            p += 4;
          } else {
            if (n !== 16 || p + 38 > ce || b[p] !== QUOTE || b[p + 37] !== QUOTE || !isUuid(b, p + 1, at)) return false;
            p += 38;
          }
          break;
        case ARRAY:
          if ((p = textArray(dv, b, base, p, ce, at, n)) < 0) return false;
          break;
        case ID:
          if (n !== 16 || p + 36 > ce || !isUuid(b, p, at)) return false;
          p += 36;
          break;
        case LATENCY:
          if (n < 0) {
            if (!isNull(b, p, ce)) return false;
            p += 4;
          } else if (n !== 4 || (p = integer(b, p, ce, i32(b, at))) < 0) return false;
          break;
        case SEQ:
          if ((p = integer(b, p, ce, seq)) < 0) return false;
          break;
        default:
          return p === ce;
      }
    }
    return false;
  }

  /** `Date.prototype.toISOString()` of the timestamp (milliseconds, rounded down as the pg driver does), and the closing quote. */
  private timestamp(b: Buffer, p: number, end: number, at: number): number {
    const ms = timestampMs(b, at);
    if (!(Math.abs(ms) <= MAX_DATE_MS)) return -1;
    const second = Math.floor(ms / 1000);
    if (second !== this.cachedSecond) {
      const iso = new Date(second * 1000).toISOString();
      this.cachedPrefix = ascii(iso.slice(0, -4));
      this.cachedSecond = second;
    }
    const prefix = this.cachedPrefix;
    if (p + prefix.length + 4 > end) return -1;
    for (let i = 0; i < prefix.length; i++, p++) if (b[p] !== prefix[i]) return -1;
    const milli = ms - second * 1000;
    if (b[p] !== ZERO + Math.floor(milli / 100) || b[p + 1] !== ZERO + (Math.floor(milli / 10) % 10) || b[p + 2] !== ZERO + (milli % 10) || b[p + 3] !== 0x5a)
      return -1;
    return p + 4;
  }
}

/**
 * The n bytes at `at` (a text value) equal those at `p` and need no escaping in JSON. Four bytes
 * at a time: equality, then whether any byte is < 0x20, '"' or '\\' (the "has a zero byte"
 * trick from Bit Twiddling Hacks; exact for the question "any such byte").
 */
function sameText(dv: DataView, b: Buffer, base: number, at: number, p: number, n: number): boolean {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const w = dv.getInt32(base + at + i);
    if (w !== dv.getInt32(base + p + i)) return false;
    const quote = w ^ 0x22222222;
    const backslash = w ^ 0x5c5c5c5c;
    if ((((w - 0x20202020) & ~w) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) & 0x80808080) return false;
  }
  for (; i < n; i++) {
    const c = b[at + i];
    if (ESCAPED[c] !== 0 || b[p + i] !== c) return false;
  }
  return true;
}

function isNull(b: Buffer, p: number, end: number): boolean {
  return p + 4 <= end && b[p] === 0x6e && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c;
}

/** The 36 characters PostgreSQL writes for the uuid at `at` (lower-case, hyphenated) are at `p`. */
function isUuid(b: Buffer, p: number, at: number): boolean {
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) {
      if (b[p] !== 0x2d) return false;
      p += 1;
    }
    const v = b[at + i];
    if (b[p] !== HEX[v >> 4] || b[p + 1] !== HEX[v & 15]) return false;
    p += 2;
  }
  return true;
}

/** A JSON integer as ECMAScript writes it (no leading zeros, no exponent, no fraction). */
function integer(b: Buffer, p: number, end: number, value: number): number {
  if (!Number.isSafeInteger(value)) return -1;
  let v = value;
  if (v < 0) {
    if (b[p] !== 0x2d) return -1;
    p += 1;
    v = -v;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = Math.floor(x / 10)) digits += 1;
  if (p + digits > end) return -1;
  for (let i = digits - 1; i >= 0; i--) {
    if (b[p + i] !== ZERO + (v % 10)) return -1;
    v = Math.floor(v / 10);
  }
  return p + digits;
}

/** A one-dimensional text[] without NULLs (or an empty one) as the inside of a JSON array; bounds are ignored, as the pg driver ignores them. */
function textArray(dv: DataView, b: Buffer, base: number, p: number, end: number, at: number, length: number): number {
  if (length < 12) return -1;
  const dims = i32(b, at);
  if (dims === 0) return p;
  if (dims !== 1 || length < 20) return -1;
  const count = i32(b, at + 12);
  let e = at + 20;
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      if (p >= end || b[p] !== COMMA) return -1;
      p += 1;
    }
    const n = i32(b, e);
    e += 4;
    if (n < 0 || p + n + 2 > end || b[p] !== QUOTE || b[p + n + 1] !== QUOTE || !sameText(dv, b, base, e, p + 1, n)) return -1;
    p += n + 2;
    e += n;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// The slow path: the row decoded as the pg driver's text protocol would give it, and compared
// exactly as the verifier always has.

/** A row of audit_event as the pg driver returns it (text protocol). */
export interface AuditEventRow {
  seq: string;
  id: string;
  at: Date;
  member_id: string;
  actor: string;
  action: string;
  source_id: string | null;
  subject_hash: string | null;
  purpose: string | null;
  case_id: string | null;
  object_ref: string | null;
  fields: unknown[];
  decision: string;
  reason: string | null;
  latency_ms: number | null;
  correlation_id: string | null;
  canonical: Buffer;
  chain_hash: Buffer;
}

/**
 * The searchable columns must be exactly the hashed content. A row whose values cannot be
 * represented at all (a timestamp outside JavaScript's range, such as 'infinity') does not agree.
 */
export function columnsAgree(row: AuditEventRow): boolean {
  let c: AuditRecordContent;
  try {
    c = JSON.parse(row.canonical.toString('utf8'));
  } catch {
    return false;
  }
  if (typeof c !== 'object' || c === null) return false;
  if (!(row.at instanceof Date) || Number.isNaN(row.at.getTime())) return false;
  return (
    c.seq === Number(row.seq) &&
    c.id === row.id &&
    c.at === row.at.toISOString() &&
    c.member === row.member_id &&
    c.actor === row.actor &&
    c.action === row.action &&
    c.source === row.source_id &&
    c.subject === row.subject_hash &&
    c.purpose === row.purpose &&
    c.caseId === row.case_id &&
    c.object === row.object_ref &&
    isDeepStrictEqual(c.fields, row.fields) &&
    c.decision === row.decision &&
    c.reason === row.reason &&
    c.latencyMs === row.latency_ms &&
    c.correlationId === row.correlation_id
  );
}

function uuidText(b: Buffer, at: number): string {
  const hex = b.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A binary text[] as the pg driver parses its text form: nested arrays per dimension (bounds ignored), NULL as null. */
function decodeTextArray(b: Buffer, at: number): unknown[] {
  const dims = i32(b, at);
  if (dims === 0) return [];
  const sizes: number[] = [];
  for (let d = 0; d < dims; d++) sizes.push(i32(b, at + 12 + d * 8));
  let e = at + 12 + dims * 8;
  const build = (d: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < sizes[d]; i++) {
      if (d < dims - 1) {
        out.push(build(d + 1));
        continue;
      }
      const n = i32(b, e);
      e += 4;
      if (n < 0) out.push(null);
      else {
        out.push(b.toString('utf8', e, e + n));
        e += n;
      }
    }
    return out;
  };
  return build(0);
}

function decodeRow(b: Buffer, o: Int32Array, l: Int32Array): AuditEventRow {
  const str = (f: number): string | null => (l[f] < 0 ? null : b.toString('utf8', o[f], o[f] + l[f]));
  const ms = l[F_AT] === 8 ? timestampMs(b, o[F_AT]) : Number.NaN;
  return {
    seq: b.readBigInt64BE(o[F_SEQ]).toString(),
    id: uuidText(b, o[F_ID]),
    at: new Date(Math.abs(ms) <= MAX_DATE_MS ? ms : Number.NaN),
    member_id: str(F_MEMBER) as string,
    actor: str(F_ACTOR) as string,
    action: str(F_ACTION) as string,
    source_id: str(F_SOURCE),
    subject_hash: str(F_SUBJECT),
    purpose: str(F_PURPOSE),
    case_id: l[F_CASE] < 0 ? null : uuidText(b, o[F_CASE]),
    object_ref: str(F_OBJECT),
    fields: l[F_FIELDS] < 0 ? (null as unknown as unknown[]) : decodeTextArray(b, o[F_FIELDS]),
    decision: str(F_DECISION) as string,
    reason: str(F_REASON),
    latency_ms: l[F_LATENCY] < 0 ? null : i32(b, o[F_LATENCY]),
    correlation_id: str(F_CORRELATION),
    canonical: b.subarray(o[F_CANONICAL], o[F_CANONICAL] + l[F_CANONICAL]),
    chain_hash: b.subarray(o[F_CHAIN], o[F_CHAIN] + HASH_SIZE),
  };
}
