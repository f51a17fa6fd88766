// `npm run audit:verify -- [--public-key <pem>] [--checkpoints <ndjson>] [--archive-dir <dir>] [--from N] [--to N] [--workers N]`
// Verifies the audit log with only the database (DATABASE_URL) and the audit public key; prints
// the report as JSON and exits 0 when the log is intact, 2 when it is not, 1 on an error.
// `--workers` sets the worker threads (0: in this thread; default: one per core from 250,000 records).
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { archiveFiles, loadAuditKeys, readCheckpointFile, verifyAuditLog } from '@datarun/audit';
import { requireSupportedNode, loadConfig } from '@datarun/config';
import { dataSourceOptions, describeDatabase } from '@datarun/db';
import { DataSource } from 'typeorm';

requireSupportedNode('audit:verify');

try {
  const { values } = parseArgs({
    options: {
      'public-key': { type: 'string' },
      checkpoints: { type: 'string' },
      'archive-dir': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      workers: { type: 'string' },
    },
  });
  const config = loadConfig(process.env);
  const trustedKey = values['public-key'] ? createPublicKey(readFileSync(values['public-key'], 'utf8')) : loadAuditKeys(config).trusted;
  if (!trustedKey) throw new Error('no audit public key: pass --public-key <pem> or set DATARUN_AUDIT_PUBLIC_KEY');
  const dataSource = await new DataSource(dataSourceOptions(config.database, 'app')).initialize().catch((error: Error) => {
    throw new Error(`cannot connect to ${describeDatabase(config.database.url)}: ${error.message}`);
  });
  try {
    const started = Date.now();
    const report = await verifyAuditLog(dataSource, {
      trustedKey,
      externalCheckpoints: readCheckpointFile(values.checkpoints ?? config.audit.checkpointFile),
      archives: archiveFiles(values['archive-dir'] ?? config.audit.archiveDir),
      from: values.from === undefined ? undefined : Number(values.from),
      to: values.to === undefined ? undefined : Number(values.to),
      workers: values.workers === undefined ? undefined : Number(values.workers),
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(JSON.stringify({ ...report, seconds, recordsPerSecond: Math.round(report.checked / Math.max(seconds, 0.001)) }));
    process.exitCode = report.ok ? 0 : 2;
  } finally {
    await dataSource.destroy();
  }
} catch (error) {
  console.error(`audit:verify: ${(error as Error).message}`);
  process.exitCode = 1;
}
