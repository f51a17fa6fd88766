// Audit append and verification speed on the real database: appends N events through AuditLog
// (group commit, as the gateway does) into a fresh schema, then verifies the whole log and drops
// the schema. `npm run bench` runs it as a child process (`--audit-records`, default a million);
// the smoke in `npm test` calls auditAppendAndVerify with a few hundred. Prints JSON; asserts nothing.
//   node dist/test/bench/audit-verify.bench.js [records, default 1000000] [workers, default: verifyAuditLog's]
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { AuditCheckpoints, AuditLog, verifyAuditLog, type VerifyReport } from '@datarun/audit';
import { type DatarunConfig, loadConfig } from '@datarun/config';
import { dataSourceOptions, runMigrations } from '@datarun/db';
import { DataSource } from 'typeorm';
import { auditKeysOf } from '../support/audit-keys.js';

export interface AuditBenchResult {
  readonly records: number;
  readonly appendSeconds: number;
  readonly appendPerSecond: number;
  readonly verifySeconds: number;
  readonly verifyPerSecond: number;
  /** CPU seconds of this process (main thread and workers) while verifying; PostgreSQL's are not included. */
  readonly verifyCpuSeconds: number;
  /** Worker threads asked for (undefined: verifyAuditLog's default, one per core from 250,000 records). */
  readonly workers?: number;
  readonly report: VerifyReport;
}

/** `env`: the process environment to configure from; the schema is always a fresh one. */
export async function auditAppendAndVerify(
  records: number,
  env: Record<string, string | undefined> = process.env,
  workers?: number,
): Promise<AuditBenchResult> {
  const schema = `bench_audit_${Date.now().toString(36)}_${process.pid}`;
  const config: DatarunConfig = loadConfig({ ...env, DATABASE_SCHEMA: schema });
  await runMigrations(config.database);
  const owner = await new DataSource(dataSourceOptions(config.database, 'owner')).initialize();
  // The audit app's role: it appends like every app and alone may insert the checkpoint.
  const app = await new DataSource(dataSourceOptions(config.database, 'audit')).initialize();
  try {
    const log = new AuditLog(app);
    const started = performance.now();
    const inFlight = 2000;
    for (let done = 0; done < records; done += inFlight) {
      const n = Math.min(inFlight, records - done);
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          log.append({
            memberId: 'zj.demo.service-hall',
            actor: `clerk-${i % 50}`,
            action: 'lookup',
            decision: 'allowed',
            sourceId: 'household',
            subjectHash: `subject-${(done + i) % 10000}`,
            purpose: 'property-transfer',
            caseId: '6f1c8e9e-3f7a-4d2b-9a61-0c2b3e4d5f60',
            fields: ['name', 'address'],
            latencyMs: 3,
          }),
        ),
      );
    }
    const appendSeconds = (performance.now() - started) / 1000;
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await new AuditCheckpoints(app, auditKeysOf(key), '/dev/null').signNow();
    const v0 = performance.now();
    const cpu0 = process.cpuUsage();
    const report = await verifyAuditLog(app, { trustedKey: key.publicKey, workers });
    const cpu = process.cpuUsage(cpu0);
    const verifySeconds = (performance.now() - v0) / 1000;
    return {
      records,
      appendSeconds,
      appendPerSecond: Math.round(records / appendSeconds),
      verifySeconds,
      verifyPerSecond: Math.round(report.checked / verifySeconds),
      verifyCpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
      ...(workers === undefined ? {} : { workers }),
      report,
    };
  } finally {
    await app.destroy();
    await owner.query(`DROP SCHEMA "${schema}" CASCADE`);
    await owner.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const workers = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  console.log(JSON.stringify(await auditAppendAndVerify(Number(process.argv[2] ?? 1_000_000), process.env, workers)));
}
