// A month's partition is created even when the default partition already holds rows of that month
// (an import with its own times, or a month not prepared in time); the rows move into it unchanged.
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog, verifyAuditLog } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

describe('monthly audit partitions', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let db: TestDatabase;
  let app: DataSource;

  beforeAll(async () => {
    db = await migratedDatabase();
    app = await new DataSource(dataSourceOptions(db.config.database, 'audit')).initialize();
  });
  afterAll(async () => {
    await app?.destroy();
    await db?.drop();
  });

  it('are created around the rows the default partition took for their month', async () => {
    const now = new Date();
    // Past the months prepared ahead (last month to three ahead): only the default partition takes it.
    const later = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 5, 10));
    const partition = `audit_event_${later.toISOString().slice(0, 7).replace('-', '_')}`;
    const log = new AuditLog(app);
    await log.append({
      memberId: 'zj.hall',
      actor: 'c',
      action: 'lookup',
      decision: 'allowed',
    });
    await log.append({
      memberId: 'zj.hall',
      actor: 'c',
      action: 'import',
      decision: 'allowed',
      at: later,
    });
    await log.append({
      memberId: 'zj.hall',
      actor: 'c',
      action: 'lookup',
      decision: 'allowed',
    });
    const where = async () => (await db.ownerQuery<{ t: string }>(`SELECT tableoid::regclass::text AS t FROM audit_event WHERE seq = 2`)).rows[0].t;
    expect(await where()).toBe('audit_event_default');

    // As the housekeeping calls it, with the application's rights.
    const [{ created }] = await app.query('SELECT audit_ensure_partitions(5) AS created');
    expect(created).toBe(2);
    expect(await where()).toBe(partition);
    expect(Number((await db.ownerQuery('SELECT count(*) FROM audit_event_default')).rows[0].count)).toBe(0);
    // The application role cannot change the new partition's rows either.
    await expect(app.query(`DELETE FROM ${partition}`)).rejects.toThrow(/permission denied/);
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey })).toMatchObject({ ok: true, checked: 3, lastSeq: 3 });
    await log.append({
      memberId: 'zj.hall',
      actor: 'c',
      action: 'import',
      decision: 'allowed',
      at: new Date(later.getTime() + 3600_000),
    });
    expect((await db.ownerQuery(`SELECT count(*)::int AS n FROM ${partition}`)).rows[0].n).toBe(2);
  });
});
