// Audit verification in worker threads, against the real database: the log split into ranges,
// each verified by a worker on its own connection in the snapshot the main thread exported, and
// joined with the seam and checkpoint checks. Every verdict (intact, tampered in each way, with
// odd but equal values, from/to, archives) must equal the in-thread one AND the one of the
// verifier as it was before the workers (test/support/audit-oracle.ts: the text protocol, every
// row JSON-parsed, batches), for several worker counts.
//
// Under ts-jest this module's sources are TypeScript, which a worker cannot load, so the test
// transpiles the worker and the files it imports (followed from verify-worker.ts) and passes the
// result as `workerScript`; `node dist/…` uses the compiled verify-worker.js beside verification.js.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  archiveFiles,
  archiveMonth,
  AuditCheckpoints,
  AuditLog,
  chainHash,
  leafHash,
  recordBytes,
  type SignedCheckpoint,
  verifyAuditLog,
  type VerifyOptions,
  type VerifyReport,
} from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import ts from 'typescript';
import { DataSource } from 'typeorm';
import { oracleVerifyAuditLog } from '../support/audit-oracle.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { auditKeysOf } from '../support/audit-keys.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const auditKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
// A test makes a migrated schema, appends up to 60 events and compares six verifications (the
// oracle, this thread, 1-4 workers, each worker a thread with its own connection) once or five
// times: ~1-5 s on an idle 2-core machine, over Jest's default 5 s when other work shares the
// cores (seen at load 3-8, before and after the verifier was split into parts).
const VERDICTS_TIMEOUT = 30_000;

/**
 * The worker and every module it imports (relative imports, followed from the transpiled output,
 * so type-only imports are left out), transpiled as `nest build` would compile them, in the same
 * folder layout.
 */
function transpiledWorker(): { url: URL; dir: string } {
  const dir = join(root, 'node_modules', '.cache', 'datarun-audit-verify-worker', `${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const sources = join(root, 'libs', 'audit', 'src');
  const pending = ['verify-worker.ts'];
  const done = new Set<string>();
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (done.has(file)) continue;
    done.add(file);
    const { outputText } = ts.transpileModule(readFileSync(join(sources, file), 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    writeFileSync(join(dir, file.replace(/\.ts$/, '.js')), outputText);
    for (const { fileName } of ts.preProcessFile(outputText).importedFiles) {
      if (fileName.startsWith('.')) pending.push(posix.join(posix.dirname(file), fileName.replace(/\.js$/, '.ts')));
    }
  }
  return { url: pathToFileURL(join(dir, 'verify-worker.js')), dir };
}

interface Log {
  db: TestDatabase;
  app: DataSource;
  external: SignedCheckpoint[];
  close(): Promise<void>;
}

/** 60 events (some with strings JSON must escape), checkpoints after 20 and 45. */
async function logOf(n = 60, checkpointsAt = [20, 45], before?: (log: AuditLog, signer: AuditCheckpoints) => Promise<void>): Promise<Log> {
  const db = await migratedDatabase();
  const app = await new DataSource(dataSourceOptions(db.config.database, 'audit')).initialize();
  const log = new AuditLog(app);
  const signer = new AuditCheckpoints(app, auditKeysOf(auditKey), '/dev/null');
  await before?.(log, signer);
  const external: SignedCheckpoint[] = [];
  const done = Number((await app.query('SELECT count(*) AS n FROM audit_event'))[0].n);
  for (let i = done + 1; i <= n; i += 1) {
    await log.append({
      memberId: 'zj.hall',
      actor: `clerk-${i % 3}`,
      action: 'lookup',
      decision: i % 5 ? 'allowed' : 'denied',
      sourceId: 'marriage',
      subjectHash: `s${i % 4}`,
      purpose: 'property-transfer',
      fields: i % 7 ? ['maritalStatus'] : ['name', 'say "hi"'],
      reason: i % 11 ? undefined : 'quoted "reason" \\ with\ttab',
      latencyMs: i % 6 ? i : undefined,
      correlationId: i % 2 ? `req-${i}` : undefined,
    });
    if (checkpointsAt.includes(i)) external.push(await signer.signNow());
  }
  return {
    db,
    app,
    external,
    async close() {
      await app.destroy();
      await db.drop();
    },
  };
}

describe('audit verification in worker threads', () => {
  const worker = transpiledWorker();
  afterAll(() => rmSync(worker.dir, { recursive: true, force: true }));
  let log: Log | undefined;
  afterEach(async () => {
    await log?.close();
    log = undefined;
  });

  /** The in-thread verdict and the workers' verdicts (1 to 4) equal the oracle's (lastSeq only when ok: see VerifyReport). */
  async function expectSameVerdicts(options: Partial<VerifyOptions> = {}): Promise<VerifyReport> {
    const all: VerifyOptions = { trustedKey: auditKey.publicKey, externalCheckpoints: log!.external, ...options };
    const expected = await oracleVerifyAuditLog(log!.app, { ...all, batchSize: 7 });
    const comparable = (r: VerifyReport): Partial<VerifyReport> => (r.ok ? r : { ...r, lastSeq: undefined });
    for (const workers of [0, 1, 2, 3, 4]) {
      const report = await verifyAuditLog(log!.app, { ...all, workers, workerScript: worker.url });
      expect({ workers, report: comparable(report) }).toEqual({ workers, report: comparable(expected) });
      // After a failure lastSeq is the last record that verified (it used to be the end of the last batch read).
      if (!report.ok && report.checked > 0) expect(report.lastSeq).toBe(report.checked + (options.from ?? 1) - 1);
    }
    return expected;
  }

  it(
    'an intact log: the same report from the oracle, this thread and 1-4 workers',
    async () => {
      log = await logOf();
      expect(await expectSameVerdicts()).toEqual({ ok: true, checked: 60, lastSeq: 60, checkpointsVerified: 2 });
    },
    VERDICTS_TIMEOUT,
  );

  it('really runs the workers (a worker that cannot load fails the verification)', async () => {
    log = await logOf(10, []);
    await expect(
      verifyAuditLog(log.app, { trustedKey: auditKey.publicKey, workers: 2, workerScript: new URL('file:///nonexistent/verify-worker.js') }),
    ).rejects.toThrow();
  });

  it.each<[string, string | ((db: TestDatabase) => Promise<void>), Partial<VerifyReport>]>([
    ['a changed column', `UPDATE audit_event SET decision = 'allowed', reason = NULL WHERE seq = 35`, { reason: 'columns', firstBadSeq: 35 }],
    ['a changed column in the first range', `UPDATE audit_event SET actor = 'x' WHERE seq = 3`, { reason: 'columns', firstBadSeq: 3 }],
    ['a deleted record', 'DELETE FROM audit_event WHERE seq = 52', { reason: 'gap', firstBadSeq: 52 }],
    // 60 records in 3 workers: 1-20, 21-40, 41-60.
    ['the last record of a range deleted', 'DELETE FROM audit_event WHERE seq = 20', { reason: 'gap', firstBadSeq: 20 }],
    ['the first record of a range deleted', 'DELETE FROM audit_event WHERE seq = 41', { reason: 'gap', firstBadSeq: 41 }],
    [
      'a record repeated at a seam',
      `INSERT INTO audit_event SELECT seq, id, at + interval '1 microsecond', member_id, actor, action, source_id, subject_hash, purpose, case_id, object_ref, fields, decision, reason, latency_ms, correlation_id, canonical, chain_hash FROM audit_event WHERE seq = 40`,
      { reason: 'order' },
    ],
    [
      'rewritten bytes and column',
      async (db) => {
        const [row] = (await db.ownerQuery('SELECT canonical FROM audit_event WHERE seq = 44')).rows;
        const forged = { ...JSON.parse(row.canonical.toString('utf8')), actor: 'nobody' };
        await db.ownerQuery(`UPDATE audit_event SET actor = 'nobody', canonical = $1 WHERE seq = 44`, [recordBytes(forged)]);
      },
      { reason: 'hash', firstBadSeq: 44 },
    ],
    [
      'two records swapped across a seam',
      `WITH a AS (SELECT * FROM audit_event WHERE seq = 18), b AS (SELECT * FROM audit_event WHERE seq = 23)
       UPDATE audit_event e SET canonical = s.canonical, chain_hash = s.chain_hash, actor = s.actor, id = s.id
       FROM (SELECT 18 AS target, b.* FROM b UNION ALL SELECT 23 AS target, a.* FROM a) s WHERE e.seq = s.target`,
      { firstBadSeq: 18 },
    ],
    [
      'records after the last checkpoint deleted (nothing can tell)',
      `DELETE FROM audit_event WHERE seq > 45; UPDATE audit_chain_head SET seq = 45`,
      { ok: true, lastSeq: 45 },
    ],
    ['the tail truncated behind a checkpoint (seq 45 and after)', `DELETE FROM audit_event WHERE seq > 30`, { reason: 'truncated', firstBadSeq: 31 }],
    [
      'a chain rewritten from record 5 with fresh hashes, the database checkpoints deleted',
      async (db) => {
        const rows = (await db.ownerQuery('SELECT seq, canonical, chain_hash FROM audit_event ORDER BY seq')).rows;
        let chain = rows[3].chain_hash as Buffer;
        for (const row of rows.slice(4)) {
          const content = JSON.parse(row.canonical.toString('utf8'));
          if (content.seq === 5) content.actor = 'rewritten';
          const bytes = recordBytes(content);
          chain = chainHash(chain, leafHash(bytes));
          await db.ownerQuery('UPDATE audit_event SET canonical = $1, chain_hash = $2, actor = $3 WHERE seq = $4', [bytes, chain, content.actor, content.seq]);
        }
        await db.ownerQuery('DELETE FROM audit_checkpoint');
      },
      { reason: 'checkpoint-mismatch', firstBadSeq: 1 },
    ],
    // Values the pg driver always read as equal to the record: still equal.
    ['an array with other bounds', `UPDATE audit_event SET fields = '[0:0]={maritalStatus}'::text[] WHERE seq = 26`, { ok: true }],
    ['a timestamp moved by microseconds', `UPDATE audit_event SET at = at + interval '300 microseconds' WHERE seq = 27`, { ok: true }],
    // And values it read as different: still different.
    ['an array with a NULL', `UPDATE audit_event SET fields = ARRAY['maritalStatus', NULL] WHERE seq = 29`, { reason: 'columns', firstBadSeq: 29 }],
    ['a two-dimensional array', `UPDATE audit_event SET fields = ARRAY[ARRAY['maritalStatus']] WHERE seq = 29`, { reason: 'columns', firstBadSeq: 29 }],
    ['a timestamp moved by a millisecond', `UPDATE audit_event SET at = at + interval '1 millisecond' WHERE seq = 57`, { reason: 'columns', firstBadSeq: 57 }],
  ])(
    '%s: the same verdict everywhere',
    async (_, tamper, expected) => {
      log = await logOf();
      if (typeof tamper === 'string') await log.db.ownerQuery(tamper);
      else await tamper(log.db);
      expect(await expectSameVerdicts()).toMatchObject({ ok: false, ...expected });
    },
    VERDICTS_TIMEOUT,
  );

  it(
    'from and to: the same verdicts for a part of the log',
    async () => {
      log = await logOf();
      expect(await expectSameVerdicts({ from: 25, to: 50 })).toEqual({ ok: true, checked: 26, lastSeq: 50, checkpointsVerified: 1 });
      expect(await expectSameVerdicts({ from: 41 })).toEqual({ ok: true, checked: 20, lastSeq: 60, checkpointsVerified: 1 });
      expect(await expectSameVerdicts({ to: 200 })).toEqual({ ok: true, checked: 60, lastSeq: 60, checkpointsVerified: 2 });
      await log.db.ownerQuery(`UPDATE audit_event SET actor = 'x' WHERE seq = 33`);
      expect(await expectSameVerdicts({ from: 25, to: 50 })).toMatchObject({ ok: false, firstBadSeq: 33, reason: 'columns', checked: 8 });
      await log.db.ownerQuery('DELETE FROM audit_event WHERE seq = 24');
      expect(await expectSameVerdicts({ from: 25 })).toMatchObject({ ok: false, firstBadSeq: 24, reason: 'gap', checked: 0 });
    },
    VERDICTS_TIMEOUT,
  );

  it(
    'an archived month first, then the database in workers: one chain and one Merkle tree',
    async () => {
      const now = new Date();
      const lastMonthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
      log = await logOf(50, [30, 50], async (audit, signer) => {
        for (let i = 0; i < 13; i += 1)
          await audit.append({
            memberId: 'zj.hall',
            actor: 'c',
            action: 'lookup',
            decision: 'allowed',
            at: new Date(lastMonthStart.getTime() + (i + 1) * 3600_000),
          });
        await signer.signNow();
      });
      const owner = await new DataSource(dataSourceOptions(log.db.config.database, 'owner')).initialize();
      const dir = mkdtempSync(join(tmpdir(), 'datarun-archive-'));
      try {
        expect(await archiveMonth(owner, lastMonthStart.toISOString().slice(0, 7), dir)).toMatchObject({ firstSeq: 1, lastSeq: 13 });
        expect(await expectSameVerdicts({ archives: archiveFiles(dir) })).toEqual({ ok: true, checked: 50, lastSeq: 50, checkpointsVerified: 3 });
        await log.db.ownerQuery(`UPDATE audit_event SET actor = 'x' WHERE seq = 14`);
        expect(await expectSameVerdicts({ archives: archiveFiles(dir) })).toMatchObject({ ok: false, firstBadSeq: 14, reason: 'columns', checked: 13 });
      } finally {
        await owner.destroy();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    VERDICTS_TIMEOUT,
  );
});
