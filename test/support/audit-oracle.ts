// The audit verifier as it was before the parallel one (libs/audit/src/verification.ts at
// 1ee099f), kept as the oracle the fast verifier is compared with (test/e2e/audit-verify-workers):
// the text protocol, every row JSON-parsed and its columns compared, the chain walked in batches.
// Deliberately shares no code with the verifier's parts (range-verifier.ts, canonical-check.ts,
// audit-copy-row.ts) beyond the public integrity functions, which their own specs check against
// published RFC 6962 vectors and node:crypto: an oracle that shared the code it checks would agree
// with its mistakes. Slow; for tests only.
import { isDeepStrictEqual } from 'node:util';
import {
  type AuditRecordContent,
  checkpointFromRow,
  type CheckpointRow,
  type ChainPoint,
  type ChainRecord,
  GENESIS,
  MerkleFrontier,
  readArchive,
  type SignedCheckpoint,
  verifyChain,
  type TrustedCheckpointKeys,
  verifyCheckpointBy,
  type VerifyOptions,
  type VerifyReport,
} from '@datarun/audit';
import type { DataSource } from 'typeorm';

type OracleFailure = NonNullable<VerifyReport['reason']>;

class Failed extends Error {
  constructor(
    readonly firstBadSeq: number,
    readonly reason: OracleFailure,
  ) {
    super(reason);
  }
}

class ChainWalk {
  point: ChainPoint;
  checked = 0;
  verified = 0;
  lastGood: number;
  private readonly frontier?: MerkleFrontier;

  constructor(
    start: ChainPoint,
    private readonly checkpoints: Map<number, SignedCheckpoint[]>,
    private readonly trustedKey: TrustedCheckpointKeys,
  ) {
    this.point = start;
    this.lastGood = start.seq;
    this.frontier = start.seq === 0 ? new MerkleFrontier() : undefined;
  }

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
    if (!checkpoint.every((c) => verifyCheckpointBy(c, this.trustedKey))) throw new Failed(this.lastGood + 1, 'checkpoint-signature');
    const root = this.frontier?.root().toString('hex');
    const chainHex = chain.toString('hex');
    if (!checkpoint.every((c) => c.chainHash === chainHex && (root === undefined || c.rootHash === root)))
      throw new Failed(this.lastGood + 1, 'checkpoint-mismatch');
    this.verified += checkpoint.length;
    this.lastGood = seq;
  }
}

export async function oracleVerifyAuditLog(dataSource: DataSource, options: VerifyOptions): Promise<VerifyReport> {
  const batchSize = options.batchSize ?? 10_000;
  const archives = (options.archives ?? []).map(readArchive).sort((a, b) => a.firstSeq - b.firstSeq);
  const rows0: CheckpointRow[] = await dataSource.query('SELECT * FROM audit_checkpoint ORDER BY seq');
  const checkpoints = new Map<number, SignedCheckpoint[]>();
  for (const c of [...rows0.map(checkpointFromRow), ...(options.externalCheckpoints ?? []), ...archives.flatMap((a) => a.checkpoints)]) {
    const list = checkpoints.get(c.seq) ?? [];
    if (!list.some((x) => x.signature === c.signature && x.chainHash === c.chainHash && x.rootHash === c.rootHash)) list.push(c);
    checkpoints.set(c.seq, list);
  }
  const from = archives.length > 0 ? 1 : Math.max(1, options.from ?? 1);
  let start: ChainPoint = { seq: 0, chainHash: GENESIS };
  if (from > 1) {
    const [row] = await dataSource.query('SELECT chain_hash FROM audit_event WHERE seq = $1', [from - 1]);
    if (!row) return { ok: false, checked: 0, firstBadSeq: from - 1, reason: 'gap', lastSeq: from - 2, checkpointsVerified: 0 };
    start = { seq: from - 1, chainHash: row.chain_hash };
  }
  const walk = new ChainWalk(start, checkpoints, options.trustedKey);
  const report = (extra: Partial<VerifyReport>): VerifyReport => ({
    ok: true,
    checked: walk.checked,
    lastSeq: walk.point.seq,
    checkpointsVerified: walk.verified,
    ...extra,
  });
  try {
    for (const archive of archives) {
      if (!archive.intact) throw new Failed(archive.firstSeq, 'archive');
      walk.walk(archive.records);
    }
    for (;;) {
      const rows: Array<Record<string, unknown> & { seq: string; canonical: Buffer; chain_hash: Buffer }> = await dataSource.query(
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
  const beyond = [...checkpoints.entries()].filter(([seq]) => seq > lastSeq && (options.to === undefined || seq <= options.to));
  if (beyond.length > 0) {
    const genuine = beyond.some(([, cs]) => cs.some((c) => verifyCheckpointBy(c, options.trustedKey)));
    return report({ ok: false, firstBadSeq: genuine ? lastSeq + 1 : walk.lastGood + 1, reason: genuine ? 'truncated' : 'checkpoint-signature' });
  }
  return report({});
}

function columnsAgree(row: Record<string, unknown> & { canonical: Buffer }): boolean {
  let c: AuditRecordContent;
  try {
    c = JSON.parse(row.canonical.toString('utf8'));
  } catch {
    return false;
  }
  return (
    c.seq === Number(row.seq) &&
    c.id === row.id &&
    c.at === (row.at as Date).toISOString() &&
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
