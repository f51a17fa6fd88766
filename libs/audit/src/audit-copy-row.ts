// The audit_event row as the verifier's COPY statement sends it (range-copy.ts), and the reference
// meaning of "the searchable columns agree with the hashed bytes": `columnsAgree` over the row
// decoded as the pg driver's text protocol would give it, exactly as the verifier always checked
// it. The fast check (canonical-check.ts) must never say yes where this says no; it hands every
// row it cannot match byte for byte to this one.
//
// Imports only node: modules and types (it runs in the verification workers).

import { isDeepStrictEqual } from 'node:util';
import { int32At, MAX_DATE_MS, textArrayAt, timestampMsAt, uuidTextAt } from './binary-copy.js';
import { HASH_SIZE } from './integrity/merkle.js';
import type { AuditRecordContent } from './integrity/canonical.js';

/** The COPY statement's columns, in order, cast to the types whose binary form the readers know. */
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

type ColumnName = (typeof COPY_COLUMNS)[number] extends `${infer Name}::${string}` ? Name : never;

/** A column's field number in the COPY tuple, by its name. */
export const Field = Object.freeze(Object.fromEntries(COPY_COLUMNS.map((column, f) => [column.slice(0, column.indexOf('::')), f]))) as Readonly<
  Record<ColumnName, number>
>;

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
  let content: AuditRecordContent;
  try {
    content = JSON.parse(row.canonical.toString('utf8'));
  } catch {
    return false;
  }
  if (typeof content !== 'object' || content === null) return false;
  if (!(row.at instanceof Date) || Number.isNaN(row.at.getTime())) return false;
  return (
    content.seq === Number(row.seq) &&
    content.id === row.id &&
    content.at === row.at.toISOString() &&
    content.member === row.member_id &&
    content.actor === row.actor &&
    content.action === row.action &&
    content.source === row.source_id &&
    content.subject === row.subject_hash &&
    content.purpose === row.purpose &&
    content.caseId === row.case_id &&
    content.object === row.object_ref &&
    isDeepStrictEqual(content.fields, row.fields) &&
    content.decision === row.decision &&
    content.reason === row.reason &&
    content.latencyMs === row.latency_ms &&
    content.correlationId === row.correlation_id
  );
}

/** The COPY tuple framed in `buffer` (BinaryCopyReader's offsets and lengths) as the pg driver would have returned the row. */
export function decodeAuditRow(buffer: Buffer, offsets: Int32Array, lengths: Int32Array): AuditEventRow {
  const text = (f: number): string | null => (lengths[f] < 0 ? null : buffer.toString('utf8', offsets[f], offsets[f] + lengths[f]));
  const ms = lengths[Field.at] === 8 ? timestampMsAt(buffer, offsets[Field.at]) : Number.NaN;
  return {
    seq: buffer.readBigInt64BE(offsets[Field.seq]).toString(),
    id: uuidTextAt(buffer, offsets[Field.id]),
    at: new Date(Math.abs(ms) <= MAX_DATE_MS ? ms : Number.NaN),
    member_id: text(Field.member_id) as string,
    actor: text(Field.actor) as string,
    action: text(Field.action) as string,
    source_id: text(Field.source_id),
    subject_hash: text(Field.subject_hash),
    purpose: text(Field.purpose),
    case_id: lengths[Field.case_id] < 0 ? null : uuidTextAt(buffer, offsets[Field.case_id]),
    object_ref: text(Field.object_ref),
    fields: lengths[Field.fields] < 0 ? (null as unknown as unknown[]) : textArrayAt(buffer, offsets[Field.fields]),
    decision: text(Field.decision) as string,
    reason: text(Field.reason),
    latency_ms: lengths[Field.latency_ms] < 0 ? null : int32At(buffer, offsets[Field.latency_ms]),
    correlation_id: text(Field.correlation_id),
    canonical: buffer.subarray(offsets[Field.canonical], offsets[Field.canonical] + lengths[Field.canonical]),
    chain_hash: buffer.subarray(offsets[Field.chain_hash], offsets[Field.chain_hash] + HASH_SIZE),
  };
}
