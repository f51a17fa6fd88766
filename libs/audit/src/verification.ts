import type { KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { DataSource } from 'typeorm';
import { type ArchiveRecord, readArchive } from './archive.js';
import { type AuditRecordContent, chainHash, GENESIS, leafHash, MerkleFrontier, type SignedCheckpoint, verifyCheckpoint } from './integrity/index.js';

export type VerifyFailure = 'gap' | 'order' | 'columns' | 'hash' | 'checkpoint-signature' | 'checkpoint-mismatch' | 'truncated' | 'archive';

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
  /** Archive files of expired months (oldest first or not: they are ordered by sequence). */
  readonly archives?: readonly string[];
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

class Failed extends Error {
  constructor(
    readonly firstBadSeq: number,
    readonly reason: VerifyFailure,
  ) {
    super(reason);
  }
}

/**
 * Walks the chain record by record: sequence continuity, chain hashes, the Merkle frontier, and
 * every checkpoint at its sequence number.
 */
class ChainWalk {
  previous: Buffer;
  expected: number;
  checked = 0;
  verified = 0;
  lastGood: number;
  private readonly frontier?: MerkleFrontier;

  constructor(
    from: number,
    previous: Buffer,
    private readonly checkpoints: Map<number, SignedCheckpoint[]>,
    private readonly trustedKey: KeyObject,
  ) {
    this.previous = previous;
    this.expected = from;
    this.lastGood = from - 1;
    this.frontier = from === 1 ? new MerkleFrontier() : undefined;
  }

  step(seq: number, bytes: Buffer, storedChainHash: Buffer): void {
    if (seq !== this.expected) throw new Failed(this.expected, seq > this.expected ? 'gap' : 'order');
    const leaf = leafHash(bytes);
    this.previous = chainHash(this.previous, leaf);
    if (!this.previous.equals(storedChainHash)) throw new Failed(seq, 'hash');
    this.frontier?.append(leaf);
    this.checked += 1;
    this.expected = seq + 1;
    const checkpoint = this.checkpoints.get(seq);
    if (!checkpoint) return;
    if (!checkpoint.every((c) => verifyCheckpoint(c, this.trustedKey))) throw new Failed(this.lastGood + 1, 'checkpoint-signature');
    const root = this.frontier?.root().toString('hex');
    const chain = this.previous.toString('hex');
    if (!checkpoint.every((c) => c.chainHash === chain && (root === undefined || c.rootHash === root))) throw new Failed(this.lastGood + 1, 'checkpoint-mismatch');
    this.verified += checkpoint.length;
    this.lastGood = seq;
  }
}

/**
 * Recomputes the audit chain from the stored canonical bytes and reports the first bad sequence
 * number: a gap or reordering, searchable columns that disagree with the hashed bytes, a stored
 * chain hash that does not follow, a checkpoint whose signature fails against the trusted key or
 * whose chain/root hash differs from the recomputation (a rewritten chain with fresh hashes), and
 * a tail truncated behind the newest checkpoint. From seq 1 it also recomputes the RFC 6962
 * Merkle root at every checkpoint. Needs only the database and the public key; expired months are
 * read from their archive files first, so the chain stays verifiable after retention.
 *
 * A range that starts after 1 takes the stored chain hash of its predecessor as given, and skips
 * the root checks (they need every leaf from 1); the default is the whole log.
 */
export async function verifyAuditLog(dataSource: DataSource, options: VerifyOptions): Promise<VerifyReport> {
  const batchSize = options.batchSize ?? 10_000;
  const archives = (options.archives ?? []).map(readArchive).sort((a, b) => a.firstSeq - b.firstSeq);
  const checkpoints = await collectCheckpoints(dataSource, [...(options.externalCheckpoints ?? []), ...archives.flatMap((a) => a.checkpoints)]);
  const from = archives.length > 0 ? 1 : Math.max(1, options.from ?? 1);

  let previous = GENESIS;
  if (from > 1) {
    const [row] = await dataSource.query('SELECT chain_hash FROM audit_event WHERE seq = $1', [from - 1]);
    if (!row) return { ok: false, checked: 0, firstBadSeq: from - 1, reason: 'gap', lastSeq: from - 2, checkpointsVerified: 0 };
    previous = row.chain_hash;
  }
  const walk = new ChainWalk(from, previous, checkpoints, options.trustedKey);
  const report = (extra: Partial<VerifyReport>): VerifyReport => ({ ok: true, checked: walk.checked, lastSeq: walk.expected - 1, checkpointsVerified: walk.verified, ...extra });

  try {
    for (const archive of archives) {
      if (!archive.intact) throw new Failed(archive.firstSeq, 'archive');
      for (const record of archive.records as ArchiveRecord[]) walk.step(record.seq, record.bytes, record.chainHash);
    }
    for (;;) {
      const rows: Row[] = await dataSource.query(
        `SELECT seq, id, at, member_id, actor, action, source_id, subject_hash, purpose, case_id, object_ref, fields, decision, reason,
                latency_ms, correlation_id, canonical, chain_hash
         FROM audit_event WHERE seq >= $1 AND ($2::bigint IS NULL OR seq <= $2) ORDER BY seq LIMIT $3`,
        [walk.expected, options.to ?? null, batchSize],
      );
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq === walk.expected && !columnsAgree(row)) throw new Failed(seq, 'columns');
        walk.step(seq, row.canonical, row.chain_hash);
      }
      if (rows.length < batchSize) break;
    }
  } catch (error) {
    if (error instanceof Failed) return report({ ok: false, firstBadSeq: error.firstBadSeq, reason: error.reason });
    throw error;
  }

  const lastSeq = walk.expected - 1;
  // Checkpoints beyond the last record: the tail was truncated (or a forged checkpoint was added).
  const beyond = [...checkpoints.entries()].filter(([seq]) => seq > lastSeq && (options.to === undefined || seq <= options.to));
  if (beyond.length > 0) {
    const genuine = beyond.some(([, cs]) => cs.some((c) => verifyCheckpoint(c, options.trustedKey)));
    return report({ ok: false, firstBadSeq: genuine ? lastSeq + 1 : walk.lastGood + 1, reason: genuine ? 'truncated' : 'checkpoint-signature' });
  }
  return report({});
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

/** The searchable columns must be exactly the hashed content. */
function columnsAgree(row: Row): boolean {
  let c: AuditRecordContent;
  try {
    c = JSON.parse(row.canonical.toString('utf8'));
  } catch {
    return false;
  }
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
