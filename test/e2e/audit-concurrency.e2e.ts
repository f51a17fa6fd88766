// Several writer processes on one audit chain, one of them with its clock an hour behind: each
// record's time is the database's, read under the chain head's lock, so seq order and time order
// agree (a month ends at a seq, and archiving it leaves no hole) and the chain still verifies.
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog, type AuditEventInput, verifyAuditLog } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const HOUR_MS = 3600_000;

/** Runs `work` with `new Date()` and `Date.now()` an offset away, as on a machine whose clock is off. */
function withClockOff<T>(offsetMs: number, work: () => T): T {
  const RealDate = Date;
  class OffDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as [string]));
    }
    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  }
  globalThis.Date = OffDate as DateConstructor;
  try {
    return work();
  } finally {
    globalThis.Date = RealDate;
  }
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

  beforeAll(async () => {
    db = await migratedDatabase();
    // Two data sources, two pools, two group-commit queues: two processes as far as the chain can tell.
    first = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    second = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
  });
  afterAll(async () => {
    await first?.destroy();
    await second?.destroy();
    await db?.drop();
  });

  it('number and time their records in the same order, whatever their own clocks say', async () => {
    const onTime = new AuditLog(first);
    const behind = new AuditLog(second);
    const appended: Array<Promise<string>> = [];
    for (let round = 0; round < 20; round += 1) {
      for (let i = 0; i < 5; i += 1) {
        appended.push(withClockOff(-HOUR_MS, () => behind.append(event('behind', i))));
        appended.push(onTime.append(event('on-time', i)));
      }
      // Changes in their own transactions, interleaved with the group commits.
      appended.push(
        withClockOff(-HOUR_MS, () => second.transaction((em) => behind.appendWithin(em, event('behind-change', round)))),
        first.transaction((em) => onTime.appendWithin(em, event('on-time-change', round))),
      );
    }
    expect(new Set(await Promise.all(appended)).size).toBe(appended.length);

    const rows = (await db.ownerQuery<{ seq: string; at: Date; actor: string }>('SELECT seq, at, actor FROM audit_event ORDER BY seq')).rows;
    expect(rows).toHaveLength(appended.length);
    const writers = new Set(rows.slice(0, rows.length / 2).map((r) => r.actor));
    expect(writers.has('behind') || writers.has('behind-change')).toBe(true); // they did interleave
    const backwards = rows.filter((r, i) => i > 0 && r.at.getTime() < rows[i - 1].at.getTime()).map((r) => Number(r.seq));
    expect(backwards).toEqual([]);
    expect(await verifyAuditLog(first, { trustedKey: key.publicKey })).toMatchObject({ ok: true, checked: appended.length });
  });
});
