// Fenced leadership of the outbox (issue 17): the lease's statements against a real PostgreSQL, a
// relay deposed between its send and its mark (real broker), and the database limits every
// application connection carries.
import { jest } from '@jest/globals';
import { dataSourceOptions } from '@datarun/db';
import { KafkaMessaging } from '@datarun/messaging';
import { LeaseLost, OutboxRelay, RelayLease, UtilityTopics } from '@datarun/transfers';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { eventually } from '../support/eventually.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { buildTransferWorld, transferCaseBody, type TransferWorld } from '../support/transfers.js';
import { bootApp } from '../support/apps.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';

jest.setTimeout(120_000);

describe('the outbox lease', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let app: DataSource;
  const expire = () => db.ownerQuery(`UPDATE relay_lease SET expires_at = now() - interval '1 second'`);

  beforeAll(async () => {
    db = await migratedDatabase();
    client = new pg.Client({ connectionString: db.config.database.url, options: `-c search_path=${db.config.database.schema}` });
    await client.connect();
    app = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
  });
  afterAll(async () => {
    await client?.end();
    await app?.destroy();
    await db?.drop();
  });

  it('is taken only when free or expired, each takeover moving the epoch on, and kept only by its holder before it expires', async () => {
    const a = new RelayLease('relay-a', 10);
    const b = new RelayLease('relay-b', 10);
    expect(await a.take(client)).toBe('1');
    expect(await b.take(client)).toBeUndefined(); // held
    expect(await a.renew(client)).toBe(true);

    await expire();
    // Expired is deposed, even though nobody took it yet: a paused relay does not send what it read.
    expect(await a.renew(client)).toBe(false);
    expect(a.epoch).toBeUndefined();
    expect(await b.take(client)).toBe('2');
    expect(await a.renew(client)).toBe(false);

    // A graceful stop releases it at once; the next holder moves the epoch on again.
    await b.release(client);
    expect(await a.take(client)).toBe('3');
    const { rows } = await db.ownerQuery<{ epoch: string; holder: string; live: boolean }>(
      'SELECT epoch::text, holder, expires_at > now() AS live FROM relay_lease',
    );
    expect(rows).toEqual([{ epoch: '3', holder: 'relay-a', live: true }]);
  });

  it('fences a transaction: it writes under the current epoch only, and a takeover waits for it to end', async () => {
    await expire();
    const a = new RelayLease('relay-a', 10);
    const epoch = (await a.take(client))!;
    await expect(app.transaction((em) => a.fence(em, String(Number(epoch) - 1)))).rejects.toThrow(LeaseLost);

    // While a fenced transaction is open, a takeover (any write of the lease row) waits for its commit.
    let release!: () => void;
    const open = new Promise<void>((resolve) => (release = resolve));
    let fenced!: (pid: number) => void;
    const inside = new Promise<number>((resolve) => (fenced = resolve));
    const marking = app.transaction(async (em) => {
      await a.fence(em, epoch);
      const [{ pid }] = await em.query('SELECT pg_backend_pid() AS pid');
      fenced(pid);
      await open;
    });
    const markingPid = await inside;
    const takeover = db.ownerQuery<{ epoch: string }>(
      `UPDATE relay_lease SET epoch = epoch + 1, holder = 'relay-b', expires_at = now() + interval '10 seconds' RETURNING epoch::text AS epoch`,
    );
    await eventually(
      'the takeover waiting for the fenced transaction',
      async () =>
        (await db.ownerQuery<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [markingPid])).rows[0].n,
      { until: (n) => n === 1 },
    );
    release();
    await marking;
    expect((await takeover).rows).toEqual([{ epoch: String(Number(epoch) + 1) }]);
    await expect(app.transaction((em) => a.fence(em, epoch))).rejects.toThrow(LeaseLost);
    expect(await a.renew(client)).toBe(false);
  });
});

describe('relays losing the lease, on a real broker', () => {
  let world: TransferWorld;
  const matter = 'water-move-lease';
  const lease = async () => (await world.city.db.ownerQuery<{ epoch: string; holder: string }>('SELECT epoch::text AS epoch, holder FROM relay_lease')).rows[0];
  const valueOf = async (metric: { get(): Promise<{ values: Array<{ value: number }> }> }) => (await metric.get()).values[0]?.value ?? 0;
  /** Completes a case whose matter notifies the water company only; returns the case id. */
  const completeCase = async (unit: string): Promise<string> => {
    const opened = await world.city.gateway.http
      .post('/v1/cases')
      .set('authorization', await world.city.hall.auth())
      .send(transferCaseBody(world, { matter, unit, address: `演示市 ${unit}`, accounts: { water: unit.replace('-U', '-W') } }))
      .expect(201);
    await world.city.gateway.http
      .post(`/v1/cases/${opened.body.id}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    return opened.body.id;
  };
  const requestOf = async (caseId: string) =>
    (
      await world.city.db.ownerQuery<{ request_id: string; state: string; sends: number; published_at: Date | null }>(
        'SELECT request_id, state, sends, published_at FROM transfer_request WHERE case_id = $1',
        [caseId],
      )
    ).rows[0];
  const audited = async (requestId: string) =>
    Number((await world.city.db.ownerQuery(`SELECT count(*) AS n FROM audit_event WHERE object_ref = $1`, [`transfer:${requestId}`])).rows[0].n);

  beforeAll(async () => {
    world = await buildTransferWorld({
      connectors: [],
      env: { DATABASE_STATEMENT_TIMEOUT_MS: '25000', DATABASE_LOCK_TIMEOUT_MS: '7000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '45000' },
    });
    await world.city.registry.http
      .post('/v1/matters')
      .set('authorization', await world.city.admin.auth())
      .send({ code: matter, title: '过户（仅供水）', evidence: [], materials: [], onComplete: [{ notify: 'water', holderRole: 'buyer' }] })
      .expect(201);
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  }, 60_000);

  it("runs the app's pool with the configured statement, lock and idle-in-transaction timeouts, and the owner's without", async () => {
    const pool = world.relays[0].app.get(DataSource);
    const [settings] = await pool.query(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
              current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(settings).toEqual({ statement: '25s', lock: '7s', idle: '45s' });
    const owner = await new DataSource(dataSourceOptions(world.config.database, 'owner')).initialize();
    try {
      const [{ statement_timeout }] = await owner.query('SHOW statement_timeout');
      expect(statement_timeout).toBe('0'); // migrations and archiving run long by nature
    } finally {
      await owner.destroy();
    }
  });

  it('cannot mark the batch it sent once its lease was taken over, stops publishing, and the next holder publishes it', async () => {
    const [first] = world.relays;
    const relayA = first.app.get(OutboxRelay);
    await eventually('relay A leading', () => valueOf(relayA.leaderGauge), { until: (v) => v === 1 });
    const taken = await lease();
    expect(taken.holder).toBe(relayA.holder);
    const second = await world.startRelay();
    const relayB = second.app.get(OutboxRelay);

    // The lease is taken over while the batch is on its way: the broker has it, but A must not mark it.
    const messaging = first.app.get(KafkaMessaging);
    const send = messaging.publishBatch.bind(messaging);
    let intruderEpoch: string | undefined;
    jest.spyOn(messaging, 'publishBatch').mockImplementationOnce(async (batches) => {
      await send(batches);
      const { rows } = await world.city.db.ownerQuery<{ epoch: string }>(
        `UPDATE relay_lease SET epoch = epoch + 1, holder = 'intruder', expires_at = now() + interval '1 hour' RETURNING epoch::text AS epoch`,
      );
      intruderEpoch = rows[0].epoch;
    });

    const caseId = await completeCase('LEASE-U1');
    await eventually('relay A deposed', () => valueOf(relayA.leaderGauge), { until: (v) => v === 0 });
    expect(intruderEpoch).toBe(String(Number(taken.epoch) + 1));
    // The fenced mark rolled back whole: not published, not counted, not audited as disclosed.
    expect(await requestOf(caseId)).toMatchObject({ state: 'pending', sends: 0, published_at: null });
    expect(await valueOf(relayA.published)).toBe(0);
    const { request_id } = await requestOf(caseId);
    expect(await audited(request_id)).toBe(0);
    expect(await valueOf(relayB.leaderGauge)).toBe(0); // the intruder holds the lease

    // A stands down for good; once the intruder's lease runs out, B takes it and publishes the request.
    await first.close();
    await world.city.db.ownerQuery(`UPDATE relay_lease SET expires_at = now() WHERE holder = 'intruder'`);
    await eventually('the request published by the new holder', () => requestOf(caseId), { until: (r) => r.state === 'published' });
    expect(await requestOf(caseId)).toMatchObject({ sends: 1 });
    expect(await valueOf(relayB.published)).toBe(1);
    expect(await valueOf(relayB.leaderGauge)).toBe(1);
    expect(await audited(request_id)).toBeGreaterThan(0);
    // Each takeover moved the epoch on: A's, the intruder's, B's.
    expect(await lease()).toEqual({ epoch: String(Number(taken.epoch) + 2), holder: relayB.holder });
  });

  it('does not send the batch it read once its lease expired meanwhile (a paused process), and a standby publishes it', async () => {
    // The relay the last test left leading (B), and a new standby (C).
    const leader = world.relays[world.relays.length - 1];
    const relayB = leader.app.get(OutboxRelay);
    await eventually('relay B leading', () => valueOf(relayB.leaderGauge), { until: (v) => v === 1 });
    const before = await lease();
    expect(before.holder).toBe(relayB.holder);
    const relayC = (await world.startRelay()).app.get(OutboxRelay);

    // B has read the batch and "pauses" past its lease (expired by hand) before it sends.
    const topics = leader.app.get(UtilityTopics);
    const ensureNamed = topics.ensureNamed.bind(topics);
    jest.spyOn(topics, 'ensureNamed').mockImplementationOnce(async (names) => {
      await ensureNamed(names);
      await world.city.db.ownerQuery(`UPDATE relay_lease SET expires_at = now() - interval '1 second'`);
    });
    const sends = jest.spyOn(leader.app.get(KafkaMessaging), 'publishBatch');
    const publishedByB = await valueOf(relayB.published);

    const caseId = await completeCase('LEASE-U2');
    await eventually('relay B deposed', () => valueOf(relayB.leaderGauge), { until: (v) => v === 0 });
    expect(sends).not.toHaveBeenCalled();
    await leader.close();

    await eventually('the request published by the standby', () => requestOf(caseId), { until: (r) => r.state === 'published' });
    expect(await requestOf(caseId)).toMatchObject({ sends: 1 });
    expect(await valueOf(relayB.published)).toBe(publishedByB);
    expect(await valueOf(relayC.published)).toBe(1);
    expect(await lease()).toEqual({ epoch: String(Number(before.epoch) + 1), holder: relayC.holder });
  });

  it('gives the lease up when it cannot renew it for a whole lease (a database that stops answering), and says so', async () => {
    // Every relay of the world stops; one with a 3 s lease takes over, whose statements may wait a minute.
    for (const relay of world.relays.splice(0)) await relay.close();
    const { config } = world;
    const relay = await bootApp(
      RelayModule.forRoot({
        ...config,
        database: { ...config.database, timeouts: { ...config.database.timeouts, statementMs: 60_000, lockMs: 60_000 } },
        transfers: { ...config.transfers, relayLeaseSeconds: 3 },
      }),
      'relay',
    );
    world.relays.push(relay);
    const relayD = relay.app.get(OutboxRelay);
    await eventually('relay D leading', () => valueOf(relayD.leaderGauge), { until: (v) => v === 1 });

    // The lease row locked elsewhere: every renewal waits and times out, as on a database that hangs.
    const blocker = new pg.Client({ connectionString: world.config.database.ownerUrl, options: `-c search_path=${world.config.database.schema}` });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM relay_lease FOR UPDATE`);
      await eventually('relay D giving up', () => valueOf(relayD.leaderGauge), { until: (v) => v === 0, timeoutMs: 20_000 });
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    // Once the database answers again it takes the lease again, under a new epoch.
    const gaveUp = await lease();
    await eventually('relay D leading again', () => valueOf(relayD.leaderGauge), { until: (v) => v === 1 });
    expect(await lease()).toEqual({ epoch: String(Number(gaveUp.epoch) + 1), holder: relayD.holder });
  });
});
