// Anomaly reports on a real audit log: each kind of finding appears above its threshold, links
// to its audit records, and stays quiet below it.
import { randomBytes } from 'node:crypto';
import { AuditLog, AuditQueries, DEFAULT_THRESHOLDS, SubjectPseudonyms } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

describe('anomaly reports', () => {
  let db: TestDatabase;
  let app: DataSource;
  let log: AuditLog;
  let queries: AuditQueries;
  const pseudonyms = new SubjectPseudonyms(randomBytes(32));
  const hour = new Date().getUTCHours();
  // Make "now" off-hours in UTC, whatever time the test runs.
  const thresholds = {
    ...DEFAULT_THRESHOLDS,
    timeZone: 'UTC',
    offHoursStart: hour,
    offHoursEnd: (hour + 2) % 24,
    offHoursBurst: 10,
    manyActors: 4,
    denialSpike: 6,
  };
  const window = () => [new Date(Date.now() - 3600_000), new Date(Date.now() + 60_000)] as const;
  const access = (over: Record<string, unknown> = {}) => ({
    memberId: 'zj.hall',
    actor: 'clerk-1',
    action: 'lookup',
    decision: 'allowed' as const,
    sourceId: 'marriage',
    subjectHash: 's-1',
    purpose: 'property-transfer',
    ...over,
  });

  beforeAll(async () => {
    db = await migratedDatabase();
    app = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    log = new AuditLog(app);
    queries = new AuditQueries(app, pseudonyms);
  });
  afterAll(async () => {
    await app?.destroy();
    await db?.drop();
  });

  it('reports each kind above its threshold with links to the records, and nothing below', async () => {
    // Below every threshold: a few ordinary accesses.
    await Promise.all([1, 2, 3].map((i) => log.append(access({ actor: `quiet-${i}`, subjectHash: `quiet-${i}` }))));
    expect(await queries.anomalies(...window(), thresholds)).toEqual([]);

    const stranger = await log.append(
      access({ actor: 'clerk-9', decision: 'denied', reason: 'SUBJECT_NOT_IN_CASE', subjectHash: 'stranger', memberId: 'zj.other' }),
    );
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(access({ actor: 'night-owl', subjectHash: `n-${i}` }))));
    const many = await Promise.all(
      ['a', 'b', 'c', 'd'].map((a) => log.append(access({ actor: `curious-${a}`, subjectHash: 'celebrity', memberId: 'zj.third' }))),
    );
    const denials = await Promise.all(
      Array.from({ length: 6 }, () => log.append(access({ memberId: 'zj.prober', actor: 'p', decision: 'denied', reason: 'GRANT_MISSING', subjectHash: 'x' }))),
    );

    const findings = await queries.anomalies(...window(), thresholds);
    const kind = (k: string) => findings.filter((f) => f.kind === k);
    expect(kind('subject-not-in-open-case')).toEqual([expect.objectContaining({ member: 'zj.other', actor: 'clerk-9', count: 1, auditIds: [stranger] })]);
    expect(kind('off-hours-burst').find((f) => f.actor === 'night-owl')).toMatchObject({ count: 10 });
    expect(
      kind('off-hours-burst')
        .find((f) => f.actor === 'night-owl')!
        .auditIds.sort(),
    ).toEqual([...burst].sort());
    expect(kind('many-actors-one-subject')).toEqual([expect.objectContaining({ subject: 'celebrity', count: 4 })]);
    expect(kind('many-actors-one-subject')[0].auditIds.sort()).toEqual([...many].sort());
    expect(kind('denial-spike')).toEqual([expect.objectContaining({ member: 'zj.prober', count: 6 })]);
    expect(kind('denial-spike')[0].auditIds.sort()).toEqual([...denials].sort());
  });
});
