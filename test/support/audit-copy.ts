// Synthetic audit rows and their PostgreSQL binary COPY encoding, for the specs of the audit
// verifier's parts (libs/audit/src): rows as audit_event holds them (canonical bytes, chain hashes,
// searchable columns = the content), edited the ways an attacker or an odd value would, and
// encoded exactly as `COPY (…) TO STDOUT (FORMAT binary)` sends the verifier's COPY_COLUMNS.
import { type AuditRecordContent, chainLink, GENESIS, recordBytes } from '@datarun/audit';

export const PG_EPOCH_MS = 946_684_800_000;

export type ArrayValue = string[] | { dims: number[]; lbounds?: number[]; items: Array<string | null> };

export interface Row {
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

export const uuid = (i: number): string => {
  const hex = (i * 2654435761 + 0x1234567).toString(16).padStart(12, '0').slice(-12);
  return `6f1c8e9e-3f7a-4d2b-9a61-${hex}`;
};

/** A log of `n` records with the variety the columns check must handle. */
export function contents(n: number): AuditRecordContent[] {
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
export function rowsOf(records: readonly AuditRecordContent[], previous = GENESIS): Row[] {
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
export function rechain(rows: Row[], fromIndex: number, previous: Buffer = fromIndex === 0 ? GENESIS : rows[fromIndex - 1].chainHash): void {
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

export function rowBytes(r: Row): Buffer {
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

export const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), int32(0), int32(0)]);
export const TRAILER = Buffer.from([0xff, 0xff]);
export const copyOf = (rows: readonly Row[]): Buffer => Buffer.concat([HEADER, ...rows.map(rowBytes), TRAILER]);

/** Hands `copy` to `target` in chunks of the given sizes (cycled), each a fresh Buffer as pg hands them over. */
export function feed(target: { write(chunk: Buffer): void }, copy: Buffer, chunks: readonly number[] = [copy.length]): void {
  for (let at = 0, i = 0; at < copy.length; i++) {
    const size = Math.max(1, chunks[i % chunks.length]);
    target.write(Buffer.from(copy.subarray(at, at + size)));
    at += size;
  }
}

/** A copy of the rows that can be edited without touching the originals. */
export const copyRows = (rows: readonly Row[]): Row[] => rows.map((r) => ({ ...r, fields: Array.isArray(r.fields) ? [...r.fields] : r.fields }));

export const hex = (b: Buffer): string => b.toString('hex');
