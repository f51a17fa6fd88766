import type { KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { DataSource } from 'typeorm';
import { type AuditRecordContent, chainHash, GENESIS, leafHash, MerkleFrontier, type SignedCheckpoint, verifyCheckpoint } from './integrity/index.js';

export type VerifyFailure = 'gap' | 'order' | 'columns' | 'hash' | 'checkpoint-signature' | 'checkpoint-mismatch' | 'truncated';

export interface VerifyReport {
  ok: boolean;
  /** Records whose hashes were recomputed. */
  checked: number;
  firstBadSeq?: number;
  reason?: VerifyFailure;
  /** The last sequence number found in the range. */
  lastSeq: number;
  /** Checkpoints whose signature and hashes matched. */
  checkpointsVerified: number;
}

export interface VerifyOptions {
  /** The audit platform key's public half: the only key checkpoints are checked against. */
  readonly trustedKey: KeyObject;
  /** Copies of checkpoints kept outside the database (file, Kafka topic). */
  readonly externalCheckpoints?: readonly SignedCheckpoint[];
  readonly from?: number;
  readonly to?: number;
  readonly batchSize?: number;
}

interface Row {
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
  fields: string[];
  decision: string;
  reason: string | null;
  latency_ms: number | null;
  correlation_id: string | null;
  canonical: Buffer;
  chain_hash: Buffer;
}

/**
 * Recomputes the audit chain from the stored canonical bytes and reports the first bad sequence
 * number: a gap or reordering, searchable columns that disagree with the hashed bytes, a stored
 * chain hash that does not follow, a checkpoint whose signature fails against the trusted key or
 * whose chain/root hash differs from the recomputation (a rewritten chain with fresh hashes), and
 * a tail truncated behind the newest checkpoint. From seq 1 it also recomputes the RFC 6962
 * Merkle root at every checkpoint. Needs only the database and the public key.
 *
 * A range that starts after 1 takes the stored chain hash of its predecessor as given, and skips
 * the root checks (they need every leaf from 1); the default is the whole log.
 */
export async function verifyAuditLog(dataSource: DataSource, options: VerifyOptions): Promise<VerifyReport> {
  const from = Math.max(1, options.from ?? 1);
  const batchSize = options.batchSize ?? 10_000;
  const checkpoints = await collectCheckpoints(dataSource, options.externalCheckpoints ?? []);

  let previous = GENESIS;
  if (from > 1) {
    const [row] = await dataSource.query('SELECT chain_hash FROM audit_event WHERE seq = $1', [from - 1]);
    if (!row) return { ok: false, checked: 0, firstBadSeq: from - 1, reason: 'gap', lastSeq: from - 2, checkpointsVerified: 0 };
    previous = row.chain_hash;
  }
  const frontier = from === 1 ? new MerkleFrontier() : undefined;
  let expected = from;
  let checked = 0;
  let verified = 0;
  let lastGood = from - 1; // the last seq covered by a valid checkpoint, or the start
  const fail = (firstBadSeq: number, reason: VerifyFailure): VerifyReport => ({ ok: false, checked, firstBadSeq, reason, lastSeq: expected - 1, checkpointsVerified: verified });

  for (;;) {
    const rows: Row[] = await dataSource.query(
      `SELECT seq, id, at, member_id, actor, action, source_id, subject_hash, purpose, case_id, object_ref, fields, decision, reason,
              latency_ms, correlation_id, canonical, chain_hash
       FROM audit_event WHERE seq >= $1 AND ($2::bigint IS NULL OR seq <= $2) ORDER BY seq LIMIT $3`,
      [expected, options.to ?? null, batchSize],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) return fail(expected, seq > expected ? 'gap' : 'order');
      let content: AuditRecordContent;
      try {
        content = JSON.parse(row.canonical.toString('utf8'));
      } catch {
        return fail(seq, 'columns');
      }
      if (!columnsAgree(row, content)) return fail(seq, 'columns');
      const leaf = leafHash(row.canonical);
      previous = chainHash(previous, leaf);
      if (!previous.equals(row.chain_hash)) return fail(seq, 'hash');
      frontier?.append(leaf);
      checked += 1;
      expected = seq + 1;

      const checkpoint = checkpoints.get(seq);
      if (checkpoint) {
        if (!checkpoint.every((c) => verifyCheckpoint(c, options.trustedKey))) return fail(lastGood + 1, 'checkpoint-signature');
        const rootOk = !frontier || checkpoint.every((c) => c.rootHash === frontier.root().toString('hex'));
        if (!checkpoint.every((c) => c.chainHash === previous.toString('hex')) || !rootOk) return fail(lastGood + 1, 'checkpoint-mismatch');
        verified += checkpoint.length;
        lastGood = seq;
      }
    }
    if (rows.length < batchSize) break;
  }

  const lastSeq = expected - 1;
  // Checkpoints beyond the last record: the tail was truncated (or a forged checkpoint was added).
  const beyond = [...checkpoints.entries()].filter(([seq]) => seq > lastSeq && (options.to === undefined || seq <= options.to));
  if (beyond.length > 0) {
    const genuine = beyond.some(([, cs]) => cs.some((c) => verifyCheckpoint(c, options.trustedKey)));
    return { ok: false, checked, firstBadSeq: genuine ? lastSeq + 1 : lastGood + 1, reason: genuine ? 'truncated' : 'checkpoint-signature', lastSeq, checkpointsVerified: verified };
  }
  return { ok: true, checked, lastSeq, checkpointsVerified: verified };
}

/** Database and external copies by sequence number; a differing copy of the same seq is kept too. */
async function collectCheckpoints(dataSource: DataSource, external: readonly SignedCheckpoint[]): Promise<Map<number, SignedCheckpoint[]>> {
  const rows: Array<{ seq: string; chain_hash: string; root_hash: string; signed_at: Date; alg: 'ES256'; kid: string; signature: string; public_key: SignedCheckpoint['publicKey'] }> =
    await dataSource.query('SELECT * FROM audit_checkpoint ORDER BY seq');
  const all: SignedCheckpoint[] = [
    ...rows.map((r) => ({
      seq: Number(r.seq),
      chainHash: r.chain_hash,
      rootHash: r.root_hash,
      signedAt: r.signed_at.toISOString(),
      alg: r.alg,
      kid: r.kid,
      signature: r.signature,
      publicKey: r.public_key,
    })),
    ...external,
  ];
  const bySeq = new Map<number, SignedCheckpoint[]>();
  for (const c of all) {
    const list = bySeq.get(c.seq) ?? [];
    if (!list.some((x) => x.signature === c.signature && x.chainHash === c.chainHash && x.rootHash === c.rootHash)) list.push(c);
    bySeq.set(c.seq, list);
  }
  return bySeq;
}

function columnsAgree(row: Row, c: AuditRecordContent): boolean {
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
