// `npm run audit:archive -- --month YYYY-MM` or `-- --expired` (AUDIT_RETENTION_MONTHS):
// archives ended months, oldest first, with their checkpoints into DATARUN_AUDIT_ARCHIVE_DIR,
// then drops their partitions. Runs as the owner (DATABASE_OWNER_URL).
import { parseArgs } from 'node:util';
import { archiveMonth, expiredMonths } from '@datarun/audit';
import { requireSupportedNode, loadConfig } from '@datarun/config';
import { dataSourceOptions } from '@datarun/db';
import { DataSource } from 'typeorm';

requireSupportedNode('audit:archive');

try {
  const { values } = parseArgs({ options: { month: { type: 'string' }, expired: { type: 'boolean' }, dir: { type: 'string' } } });
  const config = loadConfig(process.env);
  if (!values.month && !values.expired) throw new Error('pass --month YYYY-MM or --expired');
  const owner = await new DataSource(dataSourceOptions(config.database, 'owner')).initialize();
  try {
    const months = values.month ? [values.month] : await expiredMonths(owner, config.audit.retentionMonths);
    if (months.length === 0) console.log(`audit:archive: nothing to archive (retention ${config.audit.retentionMonths || 'forever'})`);
    for (const month of months) {
      const done = await archiveMonth(owner, month, values.dir ?? config.audit.archiveDir);
      console.log(`audit:archive: ${month}: ${done.records} records (seq ${done.firstSeq}..${done.lastSeq}) → ${done.file}; partition dropped`);
    }
  } finally {
    await owner.destroy();
  }
} catch (error) {
  console.error(`audit:archive: ${(error as Error).message}`);
  process.exitCode = 1;
}
