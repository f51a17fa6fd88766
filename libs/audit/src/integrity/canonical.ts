// RFC 8785 (JSON Canonicalization Scheme) bytes, and the content an audit record's hash covers.
//
// The `canonicalize` package does the RFC 8785 work (key order by UTF-16 code units, ECMAScript
// number serialisation, minimal string escaping, lone surrogates rejected). It is lenient about
// values outside JSON, though: it silently drops `undefined` members, turns `undefined` array
// items into `null`, calls `toJSON()` (so a Date becomes whatever its toJSON says) and writes
// the text "undefined" for a function-valued member. A hash that depends on such guesses is not
// reproducible in another language, so `canonicalBytes` first checks that the value is plain
// JSON data and throws otherwise.

import canonicalize from 'canonicalize';

/** A value of the I-JSON data model: what `canonicalBytes` accepts. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * RFC 8785 canonical JSON of `value`, UTF-8 encoded.
 *
 * Throws a TypeError for anything that is not plain JSON data: `undefined` (at any depth),
 * functions, symbols, bigints, NaN and ±Infinity, sparse arrays, objects that are not plain
 * (Date, Buffer, Map, class instances…), circular references, and strings with lone surrogates.
 */
export function canonicalBytes(value: unknown): Buffer {
  assertJson(value, '$', new Set());
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (error) {
    throw new TypeError(`canonicalBytes: ${(error as Error).message}`);
  }
  if (text === undefined) throw new TypeError('canonicalBytes: value has no JSON form');
  return Buffer.from(text, 'utf8');
}

function assertJson(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalBytes: ${path} is not a finite number`);
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalBytes: ${path} is ${typeof value}, not JSON`);
  }
  if (value === null) return;
  if (ancestors.has(value)) throw new TypeError(`canonicalBytes: ${path} is a circular reference`);
  ancestors.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new TypeError(`canonicalBytes: ${path}[${i}] is a hole`);
      assertJson(value[i], `${path}[${i}]`, ancestors);
    }
  } else {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`canonicalBytes: ${path} is a ${proto?.constructor?.name ?? 'non-plain'} object, not JSON`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new TypeError(`canonicalBytes: ${path} has symbol keys`);
    }
    for (const [key, item] of Object.entries(value)) {
      assertJson(item, `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(value);
}

// ---------------------------------------------------------------------------------------------
// Audit record content, version 1

export type AuditRecordDecision = 'allowed' | 'denied' | 'failed';

/**
 * What each audit record's hash covers (version 1). The canonical bytes of this object are
 * stored beside the searchable columns, so a verifier hashes the stored bytes (cheap) and checks
 * the columns against them instead of re-canonicalising every row.
 *
 * `subject` is the keyed pseudonym of the subject, never the ID number in clear.
 */
export interface AuditRecordContent {
  v: 1;
  seq: number;
  id: string;
  /** ISO 8601 with milliseconds, UTC: `Date.prototype.toISOString()` form. */
  at: string;
  member: string;
  actor: string;
  action: string;
  source: string | null;
  subject: string | null;
  purpose: string | null;
  caseId: string | null;
  /** What a change is about, e.g. `grant:<id>`, `source:household@2`, `case:<id>`; null for accesses. */
  object: string | null;
  fields: string[];
  decision: AuditRecordDecision;
  reason: string | null;
  latencyMs: number | null;
  correlationId: string | null;
}

const RECORD_KEYS = [
  'v',
  'seq',
  'id',
  'at',
  'member',
  'actor',
  'action',
  'source',
  'subject',
  'purpose',
  'caseId',
  'object',
  'fields',
  'decision',
  'reason',
  'latencyMs',
  'correlationId',
] as const satisfies readonly (keyof AuditRecordContent)[];
const RECORD_KEY_SET: ReadonlySet<string> = new Set(RECORD_KEYS);
const NULLABLE_STRINGS = ['source', 'subject', 'purpose', 'caseId', 'object', 'reason', 'correlationId'] as const;
const REQUIRED_STRINGS = ['id', 'member', 'actor', 'action'] as const;
const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DECISIONS: ReadonlySet<string> = new Set(['allowed', 'denied', 'failed']);

/**
 * Throws a TypeError unless `content` is exactly a version-1 `AuditRecordContent`: every key
 * present, no other key (a stray column must not be hashed by accident), each of its type.
 */
export function assertRecordContent(content: unknown): asserts content is AuditRecordContent {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new TypeError('audit record: not an object');
  }
  const record = content as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!RECORD_KEY_SET.has(key)) throw new TypeError(`audit record: unknown key ${key}`);
  }
  for (const key of RECORD_KEYS) {
    if (!(key in record)) throw new TypeError(`audit record: missing ${key}`);
  }
  if (record.v !== 1) throw new TypeError('audit record: v must be 1');
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 1) {
    throw new TypeError('audit record: seq must be a positive integer');
  }
  for (const key of REQUIRED_STRINGS) {
    if (typeof record[key] !== 'string' || record[key] === '') {
      throw new TypeError(`audit record: ${key} must be a non-empty string`);
    }
  }
  for (const key of NULLABLE_STRINGS) {
    if (record[key] !== null && typeof record[key] !== 'string') {
      throw new TypeError(`audit record: ${key} must be a string or null`);
    }
  }
  if (typeof record.at !== 'string' || !ISO_MS_UTC.test(record.at) || Number.isNaN(Date.parse(record.at))) {
    throw new TypeError('audit record: at must be ISO 8601 UTC with milliseconds');
  }
  if (!Array.isArray(record.fields) || !record.fields.every((field) => typeof field === 'string')) {
    throw new TypeError('audit record: fields must be an array of strings');
  }
  if (typeof record.decision !== 'string' || !DECISIONS.has(record.decision)) {
    throw new TypeError('audit record: decision must be allowed, denied or failed');
  }
  if (record.latencyMs !== null && !(typeof record.latencyMs === 'number' && Number.isFinite(record.latencyMs) && record.latencyMs >= 0)) {
    throw new TypeError('audit record: latencyMs must be a non-negative number or null');
  }
}

/** The canonical bytes of one audit record (checked with `assertRecordContent` first). */
export function recordBytes(content: AuditRecordContent): Buffer {
  assertRecordContent(content);
  return canonicalBytes(content);
}

/**
 * Parses stored record bytes back into content (for checking the searchable columns against the
 * bytes that were hashed). Throws if they are not a valid version-1 record. It does not check
 * that the bytes are canonical; the hash chain already pins them.
 */
export function parseRecordBytes(bytes: Buffer): AuditRecordContent {
  const parsed: unknown = JSON.parse(bytes.toString('utf8'));
  assertRecordContent(parsed);
  return parsed;
}
