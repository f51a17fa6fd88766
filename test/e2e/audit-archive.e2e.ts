// Retention: an expired month is archived with its checkpoints and its partition dropped; the
// chain stays verifiable from the archive, and an edited archive is caught.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveFiles, archiveMonth, AuditCheckpoints, AuditLog, expiredMonths, verifyAuditLog } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { auditKeysOf } from '../support/audit-keys.js';

describe('audit retention and archives', () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = new Date();
  const lastMonthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  const lastMonth = lastMonthStart.toISOString().slice(0, 7);
  let db: TestDatabase;
  let app: DataSource;
  let owner: DataSource;
  let dir: string;

  beforeAll(async () => {
    db = await migratedDatabase();
    app = await new DataSource(dataSourceOptions(db.config.database, 'audit')).initialize();
    owner = await new DataSource(dataSourceOptions(db.config.database, 'owner')).initialize();
    dir = mkdtempSync(join(tmpdir(), 'datarun-archive-'));
    const log = new AuditLog(app);
    const signer = new AuditCheckpoints(app, auditKeysOf(key), '/dev/null');
    for (let i = 0; i < 10; i += 1)
      await log.append({ memberId: 'zj.hall', actor: 'c', action: 'lookup', decision: 'allowed', at: new Date(lastMonthStart.getTime() + (i + 1) * 3600_000) });
    await signer.signNow(); // a checkpoint inside the month that will be archived
    for (let i = 0; i < 10; i += 1) await log.append({ memberId: 'zj.hall', actor: 'c', action: 'lookup', decision: 'allowed' });
    await signer.signNow();
  });
  afterAll(async () => {
    await app?.destroy();
    await owner?.destroy();
    await db?.drop();
  });

  it('lists months past retention, oldest first, and never the current one', async () => {
    expect(await expiredMonths(owner, 0)).toEqual([]);
    const inTwoMonths = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 15));
    expect((await expiredMonths(owner, 1, inTwoMonths))[0]).toBe(lastMonth);
  });

  it('refuses to archive a month that has not ended', async () => {
    await expect(archiveMonth(owner, now.toISOString().slice(0, 7), dir)).rejects.toMatchObject({ code: 'STATE_CONFLICT' });
  });

  it('archives the month, drops its partition, and the chain still verifies from the archive', async () => {
    const done = await archiveMonth(owner, lastMonth, dir);
    expect(done).toMatchObject({ records: 10, firstSeq: 1, lastSeq: 10 });
    const [gone] = (await db.ownerQuery('SELECT to_regclass($1) AS t', [`audit_event_${lastMonth.replace('-', '_')}`])).rows;
    expect(gone.t).toBeNull();
    expect(Number((await db.ownerQuery('SELECT count(*) FROM audit_event')).rows[0].count)).toBe(10);

    // Without the archive the log starts at 11: reported as missing records from 1.
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey })).toMatchObject({ ok: false, firstBadSeq: 1, reason: 'gap' });
    // With it, the whole chain and both checkpoints verify, Merkle roots included.
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey, archives: archiveFiles(dir) })).toEqual({
      ok: true,
      checked: 20,
      lastSeq: 20,
      checkpointsVerified: 2,
    });
  });

  it('catches an edited archive', async () => {
    const [file] = archiveFiles(dir);
    const lines = readFileSync(file, 'utf8').split('\n');
    const record = JSON.parse(lines[3]);
    const content = JSON.parse(Buffer.from(record.canonical, 'base64').toString('utf8'));
    content.actor = 'edited';
    lines[3] = JSON.stringify({ ...record, canonical: Buffer.from(JSON.stringify(content)).toString('base64') });
    const edited = join(mkdtempSync(join(tmpdir(), 'datarun-archive-')), 'audit-edited.ndjson');
    writeFileSync(edited, lines.join('\n'));
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey, archives: [edited] })).toMatchObject({ ok: false, firstBadSeq: 1, reason: 'archive' });
  });
});
