import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Problem } from '@datarun/problems';
import type { DataSource } from 'typeorm';
import { checkpointFromRow, type CheckpointRow } from './checkpoints.js';
import type { SignedCheckpoint } from './integrity/index.js';

export interface ArchiveRecord {
  readonly seq: number;
  readonly bytes: Buffer;
  readonly chainHash: Buffer;
}

export interface Archive {
  readonly month: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly records: readonly ArchiveRecord[];
  readonly checkpoints: readonly SignedCheckpoint[];
  /** False when the file's own digest does not match its content (damaged or edited). */
  readonly intact: boolean;
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * Retention: archives one expired month — its records (the hashed bytes and chain hashes) and
 * every checkpoint up to its last record — into an NDJSON file, then drops the month's partition.
 * Only the oldest month still in the database may go, and only a month that has ended by the
 * database's clock (the clock of every record's time), so what stays in the database continues the
 * archived chain. Runs as the owner (the application role cannot drop partitions). The archive
 * ends with a SHA-256 of its lines; the chain inside it is what the verifier trusts, together with
 * the signed checkpoints.
 *
 * The partition is detached first and read afterwards: a writer still committing into the month
 * when archiving starts finishes before the detach, so its records are in the file rather than
 * dropped with a partition read before they were visible. The detach needs the parent's exclusive
 * lock, and a waiting lock request queues every audited append behind it; so it asks for the lock
 * for a moment at a time and lets appends through in between, instead of holding up every audited
 * answer behind the longest reader (a verification, an export). (DETACH … CONCURRENTLY is not
 * allowed next to the default partition.) A run that stopped after the detach is taken up again.
 */
export async function archiveMonth(
  owner: DataSource,
  month: string,
  dir: string,
): Promise<{ file: string; records: number; firstSeq: number; lastSeq: number }> {
  if (!MONTH.test(month)) throw new Problem('VALIDATION_FAILED', 'month must be YYYY-MM');
  const [clock] = await owner.query(`SELECT $1::date < date_trunc('month', now()) AS ended`, [`${month}-01`]);
  if (!clock.ended) throw new Problem('STATE_CONFLICT', `${month} has not ended yet`);
  const partition = `audit_event_${month.replace('-', '_')}`;
  const [exists] = await owner.query(
    `SELECT to_regclass($1) IS NOT NULL AS ok, EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = 'audit_event'::regclass) AS attached`,
    [partition],
  );
  if (!exists.ok) throw new Problem('NOT_FOUND', `there is no partition ${partition} (already archived, or never written)`);
  const file = join(dir, `audit-${month}.ndjson`);
  if (existsSync(file)) throw new Problem('ALREADY_EXISTS', `${file} exists; move it away before archiving ${month} again`);

  if (exists.attached) {
    const [range] = await owner.query(`SELECT min(seq)::bigint AS first, count(*)::int AS n FROM ${partition}`);
    const [oldest] = await owner.query('SELECT min(seq)::bigint AS first FROM audit_event');
    if (range.n > 0 && Number(range.first) !== Number(oldest.first)) {
      throw new Problem('STATE_CONFLICT', `${month} is not the oldest month in the database: archive older months first`);
    }
    await detachBriefly(owner, partition);
  }

  let written: { records: number; firstSeq: number; lastSeq: number };
  try {
    written = await writeArchive(owner, partition, month, dir, file);
  } catch (error) {
    // Nothing is lost: the month goes back where the verifier and the searches find it.
    await owner.query(`ALTER TABLE audit_event ATTACH PARTITION ${partition} FOR VALUES FROM ('${month}-01') TO (('${month}-01'::date + interval '1 month'))`);
    throw error;
  }
  await owner.query(`DROP TABLE ${partition}`);
  return { file, ...written };
}

/** How long one attempt waits for the parent's exclusive lock, how long appends get between attempts, and how long to keep trying. */
const DETACH_LOCK_WAIT_MS = 200;
const DETACH_PAUSE_MS = 100;
const DETACH_GIVE_UP_MS = 10 * 60_000;

async function detachBriefly(owner: DataSource, partition: string): Promise<void> {
  const giveUpAt = Date.now() + DETACH_GIVE_UP_MS;
  for (;;) {
    try {
      await owner.transaction(async (em) => {
        await em.query(`SET LOCAL lock_timeout = ${DETACH_LOCK_WAIT_MS}`);
        await em.query(`ALTER TABLE audit_event DETACH PARTITION ${partition}`);
      });
      return;
    } catch (error) {
      const code = (error as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (error as { code?: string }).code;
      // 55P03 lock_not_available: someone is still reading or writing the log; try again shortly.
      if (code !== '55P03') throw error;
      if (Date.now() > giveUpAt)
        throw new Problem('STATE_CONFLICT', `audit_event stayed busy for ${DETACH_GIVE_UP_MS / 60_000} minutes; archive ${partition} later`);
      await new Promise((resolve) => setTimeout(resolve, DETACH_PAUSE_MS));
    }
  }
}

/** The detached month and its checkpoints into the archive file: written, flushed to disk and renamed into place before anything is dropped. */
async function writeArchive(
  owner: DataSource,
  partition: string,
  month: string,
  dir: string,
  file: string,
): Promise<{ records: number; firstSeq: number; lastSeq: number }> {
  const rows: Array<{ seq: string; canonical: Buffer; chain_hash: Buffer }> = await owner.query(
    `SELECT seq, canonical, chain_hash FROM ${partition} ORDER BY seq`,
  );
  const firstSeq = rows.length ? Number(rows[0].seq) : 0;
  const lastSeq = rows.length ? Number(rows[rows.length - 1].seq) : 0;
  const checkpoints = ((await owner.query('SELECT * FROM audit_checkpoint WHERE seq <= $1 ORDER BY seq', [lastSeq])) as CheckpointRow[]).map(checkpointFromRow);
  const lines = [
    JSON.stringify({ kind: 'datarun-audit-archive', v: 1, month, firstSeq, lastSeq }),
    ...rows.map((r) => JSON.stringify({ seq: Number(r.seq), canonical: r.canonical.toString('base64'), chainHash: r.chain_hash.toString('hex') })),
    ...checkpoints.map((c: SignedCheckpoint) => JSON.stringify({ checkpoint: c })),
  ];
  const body = `${lines.join('\n')}\n`;
  const text = `${body}${JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex') })}\n`;

  mkdirSync(dir, { recursive: true });
  const temporary = `${file}.partial`;
  writeFileSync(temporary, text);
  const fd = openSync(temporary, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temporary, file);
  return { records: rows.length, firstSeq, lastSeq };
}

/** The archive files in a folder (none when it does not exist). */
export function archiveFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^audit-\d{4}-\d{2}\.ndjson$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Months whose partitions are older than the retention period, oldest first; with a partition an
 * archive run detached and did not finish, so that the next run takes it up.
 */
export async function expiredMonths(owner: DataSource, retentionMonths: number, now = new Date()): Promise<string[]> {
  if (retentionMonths <= 0) return [];
  const cutoff = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - retentionMonths, 1));
  const rows: Array<{ name: string }> = await owner.query(
    `SELECT c.relname AS name FROM pg_class c
     WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = 'audit_event'::regclass)
       AND c.relkind = 'r' AND c.relname ~ '^audit_event_[0-9]{4}_[0-9]{2}$' ORDER BY 1`,
  );
  return rows.map((r) => r.name.slice('audit_event_'.length).replace('_', '-')).filter((m) => new Date(`${m}-01T00:00:00Z`) < cutoff);
}

export function readArchive(file: string): Archive {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  const trailer = JSON.parse(lines[lines.length - 1]) as { sha256?: string };
  const body = `${lines.slice(0, -1).join('\n')}\n`;
  const intact = trailer.sha256 === createHash('sha256').update(body).digest('hex');
  const header = JSON.parse(lines[0]) as { kind: string; month: string; firstSeq: number; lastSeq: number };
  if (header.kind !== 'datarun-audit-archive') throw new Error(`${file} is not a datarun audit archive`);
  const records: ArchiveRecord[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  for (const line of lines.slice(1, -1)) {
    const entry = JSON.parse(line) as { seq?: number; canonical?: string; chainHash?: string; checkpoint?: SignedCheckpoint };
    if (entry.checkpoint) checkpoints.push(entry.checkpoint);
    else records.push({ seq: entry.seq!, bytes: Buffer.from(entry.canonical!, 'base64'), chainHash: Buffer.from(entry.chainHash!, 'hex') });
  }
  return { month: header.month, firstSeq: header.firstSeq, lastSeq: header.lastSeq, records, checkpoints, intact };
}
