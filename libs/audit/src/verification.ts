import type { KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { DataSource } from 'typeorm';
import { readArchive } from './archive.js';
import { checkpointFromRow, type CheckpointRow } from './checkpoints.js';
import { type AuditRecordContent, type ChainPoint, type ChainRecord, GENESIS, MerkleFrontier, type SignedCheckpoint, verifyChain, verifyCheckpoint } from './integrity/index.js';

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
 * Walks the chain batch by batch with `verifyChain` (continuity and chain hashes), and at every
 * verified record: an optional check of its own (the searchable columns), the Merkle frontier,
 * and any checkpoint at that sequence number.
 */
class ChainWalk {
  point: ChainPoint;
  checked = 0;
  verified = 0;
  lastGood: number;
  private readonly frontier?: MerkleFrontier;

  constructor(
    start: ChainPoint,
    private readonly checkpoints: Map<number, SignedCheckpoint[]>,
    private readonly trustedKey: KeyObject,
  ) {
    this.point = start;
    this.lastGood = start.seq;
    this.frontier = start.seq === 0 ? new MerkleFrontier() : undefined;
  }

  /** Throws Failed at the first fault; `check(i)` may throw for the i-th record once its hash is good. */
  walk(records: readonly ChainRecord[], check?: (index: number) => void): void {
    const first = this.point.seq + 1;
    let checked = 0;
    try {
      const result = verifyChain(records, this.point, {
        onLeaf: (seq, leaf) => {
          check?.(seq - first);
          this.frontier?.append(leaf);
          this.atCheckpoint(seq, records[seq - first].chainHash);
          checked += 1;
        },
      });
      if (!result.ok) throw new Failed(result.firstBadSeq, result.reason);
      this.point = result.last;
    } finally {
      this.checked += checked;
    }
  }

  private atCheckpoint(seq: number, chain: Buffer): void {
    const checkpoint = this.checkpoints.get(seq);
    if (!checkpoint) return;
    if (!checkpoint.every((c) => verifyCheckpoint(c, this.trustedKey))) throw new Failed(this.lastGood + 1, 'checkpoint-signature');
    const root = this.frontier?.root().toString('hex');
    const chainHex = chain.toString('hex');
    if (!checkpoint.every((c) => c.chainHash === chainHex && (root === undefined || c.rootHash === root))) throw new Failed(this.lastGood + 1, 'checkpoint-mismatch');
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

  let start: ChainPoint = { seq: 0, chainHash: GENESIS };
  if (from > 1) {
    const [row] = await dataSource.query('SELECT chain_hash FROM audit_event WHERE seq = $1', [from - 1]);
    if (!row) return { ok: false, checked: 0, firstBadSeq: from - 1, reason: 'gap', lastSeq: from - 2, checkpointsVerified: 0 };
    start = { seq: from - 1, chainHash: row.chain_hash };
  }
  const walk = new ChainWalk(start, checkpoints, options.trustedKey);
  const report = (extra: Partial<VerifyReport>): VerifyReport => ({ ok: true, checked: walk.checked, lastSeq: walk.point.seq, checkpointsVerified: walk.verified, ...extra });

  try {
    for (const archive of archives) {
      if (!archive.intact) throw new Failed(archive.firstSeq, 'archive');
      walk.walk(archive.records);
    }
    for (;;) {
      const rows: Row[] = await dataSource.query(
        `SELECT seq, id, at, member_id, actor, action, source_id, subject_hash, purpose, case_id, object_ref, fields, decision, reason,
                latency_ms, correlation_id, canonical, chain_hash
         FROM audit_event WHERE seq >= $1 AND ($2::bigint IS NULL OR seq <= $2) ORDER BY seq LIMIT $3`,
        [walk.point.seq + 1, options.to ?? null, batchSize],
      );
      walk.walk(
        rows.map((row) => ({ seq: Number(row.seq), bytes: row.canonical, chainHash: row.chain_hash })),
        (i) => {
          if (!columnsAgree(rows[i])) throw new Failed(Number(rows[i].seq), 'columns');
        },
      );
      if (rows.length < batchSize) break;
    }
  } catch (error) {
    if (error instanceof Failed) return report({ ok: false, firstBadSeq: error.firstBadSeq, reason: error.reason });
    throw error;
  }

  const lastSeq = walk.point.seq;
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
  const rows: CheckpointRow[] = await dataSource.query('SELECT * FROM audit_checkpoint ORDER BY seq');
  const all: SignedCheckpoint[] = [...rows.map(checkpointFromRow), ...external];
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
