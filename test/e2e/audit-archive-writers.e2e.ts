// Archiving a month while the log is in use: a writer still committing into the month when the
// archive starts ends up in the archive (not dropped with the partition), and audited appends go
// on while the archive waits for a long reader of the log (a verification, an export) to finish.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveFiles, archiveMonth, AuditLog, type AuditEventInput, expiredMonths, verifyAuditLog } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { eventually } from '../support/eventually.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

describe('archiving a month with writers and readers at work', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const lastMonthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const lastMonth = lastMonthStart.toISOString().slice(0, 7);
  const inLastMonth = (hours: number): AuditEventInput => ({
    memberId: 'zj.hall',
    actor: 'c',
    action: 'lookup',
    decision: 'allowed',
    at: new Date(lastMonthStart.getTime() + hours * 3600_000),
  });
  const current: AuditEventInput = { memberId: 'zj.hall', actor: 'c', action: 'lookup', decision: 'allowed' };
  let db: TestDatabase;
  let app: DataSource;
  let owner: DataSource;
  let reader: pg.Client;

  beforeAll(async () => {
    db = await migratedDatabase();
    app = await new DataSource(dataSourceOptions(db.config.database, 'audit')).initialize();
    owner = await new DataSource(dataSourceOptions(db.config.database, 'owner')).initialize();
    reader = new pg.Client({ connectionString: db.config.database.ownerUrl, options: `-c search_path=${db.config.database.schema}` });
    await reader.connect();
  });
  afterAll(async () => {
    await reader?.end();
    await app?.destroy();
    await owner?.destroy();
    await db?.drop();
  });

  it('archives every record of the month, and appends are not held up behind the archive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datarun-archive-'));
    const log = new AuditLog(app);
    for (let i = 1; i <= 10; i += 1) await log.append(inLastMonth(i));

    // A reader of the whole log, in one snapshot, as the verifier is.
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await reader.query('SELECT count(*) FROM audit_event');
    const readerPid = (await reader.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    // A writer in the middle of a change that records an event of the month, not yet committed.
    const writer = app.createQueryRunner();
    await writer.connect();
    await writer.startTransaction();
    await log.appendWithin(writer.manager, inLastMonth(20));

    const archiving = archiveMonth(owner, lastMonth, dir);
    await eventually(
      'the archive to wait for the reader',
      async () =>
        (
          await db.ownerQuery(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE audit_event DETACH%' AND $1 = ANY (pg_blocking_pids(pid))`,
            [readerPid],
          )
        ).rows[0].n > 0,
      { everyMs: 10, timeoutMs: 10_000 },
    );
    await writer.commitTransaction();
    await writer.release();
    // Audited work goes on while the archive waits for the reader.
    for (let i = 0; i < 5; i += 1) await log.append(current);
    await reader.query('COMMIT');

    expect(await archiving).toMatchObject({ records: 11, firstSeq: 1, lastSeq: 11 });
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey, archives: archiveFiles(dir) })).toMatchObject({ ok: true, checked: 16, lastSeq: 16 });
  });

  it('takes up a month an earlier run detached and did not archive', async () => {
    const fresh = await migratedDatabase();
    const writer = await new DataSource(dataSourceOptions(fresh.config.database, 'audit')).initialize();
    const freshOwner = await new DataSource(dataSourceOptions(fresh.config.database, 'owner')).initialize();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'datarun-archive-'));
      const log = new AuditLog(writer);
      for (let i = 1; i <= 3; i += 1) await log.append(inLastMonth(i));
      await log.append(current);
      // An archive run that stopped right after its detach.
      await fresh.ownerQuery(`ALTER TABLE audit_event DETACH PARTITION audit_event_${lastMonth.replace('-', '_')}`);
      const inTwoMonths = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 15));
      expect((await expiredMonths(freshOwner, 1, inTwoMonths))[0]).toBe(lastMonth);
      expect(await archiveMonth(freshOwner, lastMonth, dir)).toMatchObject({ records: 3, firstSeq: 1, lastSeq: 3 });
      expect(await verifyAuditLog(writer, { trustedKey: key.publicKey, archives: archiveFiles(dir) })).toMatchObject({ ok: true, checked: 4, lastSeq: 4 });
    } finally {
      await writer.destroy();
      await freshOwner.destroy();
      await fresh.drop();
    }
  });
});
