// Several writer processes on one audit chain, their clocks off by an hour either way: each
// record's time is the database's (read under the chain head's lock) or the writer's own clock
// tied to the database's and checked against it by the one-round-trip append, so seq order and
// time order agree (a month ends at a seq, and archiving it leaves no hole) and the chain still
// verifies. A writer alone appends in one round trip; another writer moving the head sends it the
// locked way.
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog, type AuditEventInput, verifyAuditLog } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import { Metrics } from '@datarun/metrics';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const HOUR_MS = 3600_000;

/** Appends by way (`one-trip`, `locked`, `failed`) as `datarun_audit_append_seconds` counted them. */
async function appendsByWay(metrics: Metrics): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('datarun_audit_append_seconds')!.get();
  const counts: Record<string, number> = {};
  // A histogram's values carry their series' name (prom-client's type leaves it out).
  for (const v of metric.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>) {
    if (v.metricName?.endsWith('_count')) counts[String(v.labels.way)] = v.value;
  }
  return counts;
}

const event = (actor: string, i: number): AuditEventInput => ({
  memberId: 'zj.hall',
  actor,
  action: 'lookup',
  decision: 'allowed',
  sourceId: 'marriage',
  subjectHash: `s${i % 5}`,
  purpose: 'property-transfer',
  fields: ['maritalStatus'],
});

describe('audit appends from several writers', () => {
  let db: TestDatabase;
  let first: DataSource;
  let second: DataSource;
  let third: DataSource;

  beforeAll(async () => {
    db = await migratedDatabase();
    // Three data sources, three pools, three group-commit queues: three processes as far as the chain can tell.
    first = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    second = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    third = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
  });
  afterAll(async () => {
    await first?.destroy();
    await second?.destroy();
    await third?.destroy();
    await db?.drop();
  });

  it('number and time their records in the same order, whatever their own clocks say', async () => {
    const started = Date.now();
    const aheadMetrics = new Metrics();
    const onTime = new AuditLog(first);
    const behind = new AuditLog(second, { clock: () => Date.now() - HOUR_MS });
    const ahead = new AuditLog(third, { clock: () => Date.now() + HOUR_MS, metrics: aheadMetrics });
    const appended: Array<Promise<string>> = [];
    for (let round = 0; round < 20; round += 1) {
      for (let i = 0; i < 5; i += 1) {
        appended.push(behind.append(event('behind', i)), onTime.append(event('on-time', i)), ahead.append(event('ahead', i)));
      }
      // Changes in their own transactions, interleaved with the group commits.
      appended.push(
        second.transaction((em) => behind.appendWithin(em, event('behind-change', round))),
        first.transaction((em) => onTime.appendWithin(em, event('on-time-change', round))),
      );
      // Now and then a writer has the chain to itself for a while (one round trip an append, once
      // the appends under the lock that follow another writer's are done).
      if (round % 10 === 9) {
        await Promise.all(appended);
        for (let i = 0; i < 20; i += 1) {
          const alone = ahead.append(event('ahead-alone', i));
          appended.push(alone);
          await alone;
        }
      }
    }
    expect(new Set(await Promise.all(appended)).size).toBe(appended.length);

    const rows = (await db.ownerQuery<{ seq: string; at: Date; actor: string }>('SELECT seq, at, actor FROM audit_event ORDER BY seq')).rows;
    expect(rows).toHaveLength(appended.length);
    const writers = new Set(rows.slice(0, rows.length / 2).map((r) => r.actor));
    expect(writers.has('behind') || writers.has('behind-change')).toBe(true); // they did interleave
    const backwards = rows.filter((r, i) => i > 0 && r.at.getTime() < rows[i - 1].at.getTime()).map((r) => Number(r.seq));
    expect(backwards).toEqual([]);
    // Neither an hour behind nor an hour ahead: the database's time, give or take a round trip.
    expect(rows.filter((r) => r.at.getTime() < started - 1000 || r.at.getTime() > Date.now() + 1000)).toEqual([]);
    expect((await appendsByWay(aheadMetrics))['one-trip']).toBeGreaterThan(0);
    expect(await verifyAuditLog(first, { trustedKey: key.publicKey })).toMatchObject({ ok: true, checked: appended.length });
  });
});

describe('the one-round-trip audit append', () => {
  let db: TestDatabase;
  let app: DataSource;
  let other: DataSource;

  beforeAll(async () => {
    db = await migratedDatabase();
    app = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    other = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
  });
  afterAll(async () => {
    await app?.destroy();
    await other?.destroy();
    await db?.drop();
  });

  /** The database's clock and the chain's newest record time, read together. */
  const newest = async () => (await db.ownerQuery<{ at: Date; now: Date }>('SELECT max(at) AS at, clock_timestamp() AS now FROM audit_event')).rows[0];

  it('is how a writer alone appends; another writer moving the head sends it the locked way, writing nothing twice', async () => {
    const metrics = new Metrics();
    const log = new AuditLog(app, { metrics });
    for (let i = 0; i < 10; i += 1) await log.append(event('alone', i));
    // The first append has to read the head; every later one chains from the end it wrote.
    expect(await appendsByWay(metrics)).toEqual({ locked: 1, 'one-trip': 9 });

    await new AuditLog(other).append(event('other', 0));
    await log.append(event('alone', 10));
    expect(await appendsByWay(metrics)).toEqual({ locked: 2, 'one-trip': 9 });
    // After a while under the lock, one round trip again.
    for (let i = 11; i < 40; i += 1) await log.append(event('alone', i));
    const ways = await appendsByWay(metrics);
    expect(ways.locked + ways['one-trip']).toBe(40);
    expect(ways['one-trip']).toBeGreaterThan(9);

    const seqs = (await db.ownerQuery<{ seq: string }>('SELECT seq FROM audit_event ORDER BY seq')).rows.map((r) => Number(r.seq));
    expect(seqs).toEqual(Array.from({ length: 41 }, (_, i) => i + 1));
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey })).toMatchObject({ ok: true, checked: 41 });
  });

  it('never stamps a record ahead of the database: a clock that jumps ahead sends the append the locked way', async () => {
    let offMs = 0;
    const metrics = new Metrics();
    const log = new AuditLog(app, { metrics, clock: () => Date.now() + offMs });
    await log.append(event('jumpy', 0));
    await log.append(event('jumpy', 1));
    expect(await appendsByWay(metrics)).toEqual({ locked: 1, 'one-trip': 1 });

    offMs = HOUR_MS;
    await log.append(event('jumpy', 2));
    let seen = await newest();
    expect(seen.at.getTime()).toBeLessThanOrEqual(seen.now.getTime());
    expect(await appendsByWay(metrics)).toEqual({ locked: 2, 'one-trip': 1 });

    // The locked append tied the clock to the database's again: the next appends of a writer left
    // alone are one round trip, timed by the database's clock, not an hour ahead.
    for (let i = 3; i < 25; i += 1) await log.append(event('jumpy', i));
    seen = await newest();
    expect(seen.at.getTime()).toBeLessThanOrEqual(seen.now.getTime());
    expect(seen.at.getTime()).toBeGreaterThan(seen.now.getTime() - 1000);
    expect((await appendsByWay(metrics))['one-trip']).toBeGreaterThan(1);
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey })).toMatchObject({ ok: true });
  });

  it('does not wait for a head another transaction holds: the locked append waits for it instead', async () => {
    const metrics = new Metrics();
    const log = new AuditLog(app, { metrics });
    await log.append(event('patient', 0));
    const holder = await other.createQueryRunner();
    await holder.startTransaction();
    try {
      await holder.query('SELECT seq FROM audit_chain_head WHERE chain_id = 1 FOR UPDATE');
      const appended = log.append(event('patient', 1));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.commitTransaction();
      await appended;
    } finally {
      await holder.release();
    }
    expect(await appendsByWay(metrics)).toEqual({ locked: 2 });
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey })).toMatchObject({ ok: true });
  });
});
