// Crashes on the transfer path, against the real broker: a connector killed mid-batch, a
// connector joining and another dying while a slow system holds requests in flight (rebalances),
// the active relay killed while another waits, the active relay paused (SIGSTOP) with its session
// still open, and poison on a utility topic. Each test counts what went in
// and what came out, and proves its fault happened (redeliveries skipped by the connector's own
// inbox, a second relay that took over, dead letters with reasons).
import { cloudEvent, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { requestTopic } from '@datarun/transfers';
import { SimulatedUtilities, type SimulatedUtility } from '../../apps/sandbox/src/simulated-utilities.js';
import { envOf, startAppProcess, type AppProcess } from '../support/processes.js';
import { eventually } from '../support/eventually.js';
import { buildTransferWorld, transferCaseBody, type TransferWorld } from '../support/transfers.js';

/** A matter that notifies the water company only, with no materials: the lightest transfer there is. */
async function registerWaterMatter(world: TransferWorld, code: string): Promise<void> {
  await world.city.registry.http
    .post('/v1/matters')
    .set('authorization', await world.city.admin.auth())
    .send({ code, title: '过户（仅供水）', evidence: [], materials: [], onComplete: [{ notify: 'water', holderRole: 'buyer' }] })
    .expect(201);
}

/** Opens and completes a case moving `unit`'s water account to the buyer; returns the case id. */
async function completeCase(world: TransferWorld, matter: string, unit: string, account: string, buyer = 1): Promise<string> {
  const { city } = world;
  const opened = await city.gateway.http
    .post('/v1/cases')
    .set('authorization', await city.hall.auth())
    .send(transferCaseBody(world, { matter, unit, address: `演示市 ${unit}`, accounts: { water: account }, buyer }))
    .expect(201);
  await city.gateway.http
    .post(`/v1/cases/${opened.body.id}/complete`)
    .set('authorization', await city.hall.auth())
    .expect(200);
  return opened.body.id;
}

const water = (world: TransferWorld): SimulatedUtility => world.sandbox.app.get(SimulatedUtilities).of('water');
const count = async (world: TransferWorld, sql: string, params: unknown[] = []) => Number((await world.city.db.ownerQuery(sql, params)).rows[0].n);

describe('a connector killed mid-batch and restarted', () => {
  let world: TransferWorld;
  const connectors: AppProcess[] = [];
  const matter = 'water-move-kill';

  beforeAll(async () => {
    world = await buildTransferWorld({ connectors: [] });
    await registerWaterMatter(world, matter);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(connectors.map((c) => c.kill()));
    await world?.close();
  }, 60_000);

  it('applies every transfer exactly once, the inbox skipping what was redelivered', async () => {
    const total = 200;
    // Offsets are committed every 50 requests only, and each apply takes 30 ms: killing the connector
    // between two commits leaves requests that were applied and recorded but not committed.
    // The connector starts once every case is complete, on a backlog of 200: had it run meanwhile, it
    // would keep up with cases completing slowly (a busy machine) and be done before the kill.
    const connectorEnv = envOf(world.connectorConfig('water'), { CONNECTOR_COMMIT_EVERY: '50', CONNECTOR_COMMIT_INTERVAL_MS: '600000' });
    for (let i = 0; i < total; i += 1) await completeCase(world, matter, `KILL-U${i}`, `KILL-W${i}`);
    water(world).slowDown(30);
    connectors.push(await startAppProcess('connector', connectorEnv, 'CONNECTOR_PORT'));

    const atKill = await eventually('the connector between two commits', () => water(world).requests().length, {
      until: (n) => n >= 60 && n % 50 >= 10 && n % 50 <= 40,
      timeoutMs: 60_000,
      everyMs: 10,
    });
    await connectors[0].kill();
    const applied = water(world).requests().length;
    expect(applied).toBeLessThan(total); // it really died mid-batch
    expect(applied - atKill).toBeLessThanOrEqual(1);

    water(world).slowDown(0);
    connectors.push(await startAppProcess('connector', connectorEnv, 'CONNECTOR_PORT'));
    await eventually('every water transfer completed', () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE state = 'completed'`), {
      until: (n) => n === total,
      timeoutMs: 90_000,
    });

    const requests = water(world)
      .requests()
      .filter((r) => r.accountNumber.startsWith('KILL-W'));
    expect(requests).toHaveLength(total);
    expect(new Set(requests.map((r) => r.requestId)).size).toBe(total);
    // Only a request in flight at the kill can reach the utility twice; its idempotency key absorbed it.
    expect(requests.reduce((sum, r) => sum + r.calls, 0) - total).toBeLessThanOrEqual(1);
    // The connector's own inbox (its SQLite file, which survived the kill): one entry per request.
    const inbox = world.inboxOf('water');
    const entries = inbox.entries();
    inbox.close();
    expect(entries).toHaveLength(total);
    // The fault happened: redelivered requests were seen and skipped by the inbox.
    const redelivered = entries.reduce((sum, e) => sum + e.redeliveries, 0);
    expect(redelivered).toBeGreaterThanOrEqual(5); // killed at least 10 requests after the last commit
    expect(await connectors[1].metric('datarun_connector_inbox_duplicates_total')).toBe(redelivered);
  }, 240_000);
});

describe('connectors joining and dying while requests are in flight', () => {
  let world: TransferWorld;
  const connectors: AppProcess[] = [];
  const matter = 'water-move-rebalance';

  beforeAll(async () => {
    world = await buildTransferWorld({ connectors: [] });
    await registerWaterMatter(world, matter);
  }, 120_000);
  afterAll(async () => {
    water(world).slowDown(0);
    await Promise.allSettled(connectors.map((c) => c.kill()));
    await world?.close();
  }, 60_000);

  it('applies every transfer once and in each property’s order through two rebalances', async () => {
    const units = 10;
    const rounds = 8;
    // Each application takes 150 ms, so requests are in flight whenever the group changes.
    water(world).slowDown(150);
    const base = envOf(world.connectorConfig('water'));
    const first = await startAppProcess('connector', base, 'CONNECTOR_PORT');
    connectors.push(first);
    for (let r = 0; r < rounds; r += 1) for (let u = 0; u < units; u += 1) await completeCase(world, matter, `REB-U${u}`, `REB-W${u}`, 1 + ((r + u) % 5));
    const total = units * rounds;
    await eventually('the first connector under way', () => water(world).requests().length, { until: (n) => n >= 10, timeoutMs: 60_000, everyMs: 20 });

    // A second connector of the same member joins (its own inbox, as on another machine): the
    // group rebalances while the first is applying.
    const second = await startAppProcess('connector', { ...base, CONNECTOR_INBOX: `${base.CONNECTOR_INBOX}.second` }, 'CONNECTOR_PORT');
    connectors.push(second);
    await eventually('both connectors applying', async () => Promise.all([first, second].map((c) => c.metric('datarun_connector_requests_total'))), {
      until: ([a, b]) => a > 0 && b > 0,
      timeoutMs: 60_000,
      everyMs: 100,
    });
    // Then the first dies mid-request: its partitions move to the second, uncommitted work included.
    await first.kill();
    const atKill = water(world).requests().length;
    expect(atKill).toBeLessThan(total); // work was left for the survivor

    await eventually(
      'every water transfer completed',
      () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE state = 'completed' AND message_key LIKE 'REB-U%'`),
      {
        until: (n) => n === total,
        timeoutMs: 120_000,
      },
    );
    const applied = water(world)
      .requests()
      .filter((r) => r.accountNumber.startsWith('REB-W'));
    expect(new Set(applied.map((r) => r.requestId)).size).toBe(total);
    const { rows } = await world.city.db.ownerQuery<{ message_key: string; ids: string[] }>(
      `SELECT message_key, array_agg(request_id::text ORDER BY seq) AS ids FROM transfer_request WHERE message_key LIKE 'REB-U%' GROUP BY message_key`,
    );
    expect(rows).toHaveLength(units);
    for (const row of rows) expect(water(world).account(row.message_key.replace('REB-U', 'REB-W'))?.history).toEqual(row.ids);
    // The faults happened: both members applied requests, and the survivor went on after the kill.
    expect(await second.metric('datarun_connector_requests_total')).toBeGreaterThan(0);
    const repeated = applied.filter((r) => r.calls > 1).length;
    process.stdout.write(
      `connector rebalance: ${atKill} of ${total} applied when the first connector was killed; ${repeated} requests reached the system twice and were absorbed by its idempotency key\n`,
    );
  }, 240_000);
});

describe('two relays at once', () => {
  let world: TransferWorld;
  const relays: AppProcess[] = [];
  const matter = 'water-move-relays';

  beforeAll(async () => {
    world = await buildTransferWorld({ relay: false, connectors: ['water'] });
    await registerWaterMatter(world, matter);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled(relays.map((r) => r.kill()));
    await world?.close();
  }, 60_000);

  it('publishes through one at a time, fails over on a crash, keeps each property in order and applies nothing twice', async () => {
    const env = envOf(world.config);
    relays.push(await startAppProcess('relay', env, 'RELAY_PORT'), await startAppProcess('relay', env, 'RELAY_PORT'));
    const leaders = await eventually('exactly one active relay', () => Promise.all(relays.map((r) => r.metric('datarun_relay_leader'))), {
      until: (flags) => flags.filter((f) => f === 1).length === 1,
    });
    const leaderIndex = leaders.indexOf(1);
    const [leader, standby] = [relays[leaderIndex], relays[1 - leaderIndex]];

    const units = 8;
    const rounds = 6;
    const completedInOrder = async (round: number) => {
      for (let u = 0; u < units; u += 1) await completeCase(world, matter, `PAIR-U${u}`, `PAIR-W${u}`, 1 + ((round + u) % 5));
    };
    for (let round = 0; round < 3; round += 1) await completedInOrder(round);
    await eventually('the first rounds published', () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE state <> 'pending'`), {
      until: (n) => n >= units,
    });
    const publishedByLeader = await leader.metric('datarun_relay_published_total');
    expect(publishedByLeader).toBeGreaterThan(0);
    expect(await standby.metric('datarun_relay_published_total')).toBe(0); // one publisher at a time

    await leader.kill();
    for (let round = 3; round < rounds; round += 1) await completedInOrder(round);
    await eventually('every water transfer completed', () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE state = 'completed'`), {
      until: (n) => n === units * rounds,
      timeoutMs: 90_000,
    });

    // The fault happened: the standby took over and published the rest.
    expect(await standby.metric('datarun_relay_leader')).toBe(1);
    expect(await standby.metric('datarun_relay_published_total')).toBeGreaterThan(0);

    const applied = water(world)
      .requests()
      .filter((r) => r.accountNumber.startsWith('PAIR-W'));
    expect(applied).toHaveLength(units * rounds);
    expect(new Set(applied.map((r) => r.requestId)).size).toBe(units * rounds);
    // Order per property: each account saw its requests in the order the cases completed.
    const { rows } = await world.city.db.ownerQuery<{ message_key: string; ids: string[] }>(
      `SELECT message_key, array_agg(request_id::text ORDER BY seq) AS ids FROM transfer_request GROUP BY message_key`,
    );
    expect(rows).toHaveLength(units);
    for (const row of rows) {
      const account = water(world).account(row.message_key.replace('PAIR-U', 'PAIR-W'));
      expect(account?.history).toEqual(row.ids);
    }
  }, 240_000);
});

describe('the active relay paused while another waits', () => {
  let world: TransferWorld;
  const relays: AppProcess[] = [];
  const matter = 'water-move-paused';

  beforeAll(async () => {
    world = await buildTransferWorld({ relay: false, connectors: ['water'] });
    await registerWaterMatter(world, matter);
  }, 120_000);
  afterAll(async () => {
    for (const r of relays) r.child.kill('SIGCONT');
    await Promise.allSettled(relays.map((r) => r.kill()));
    await world?.close();
  }, 60_000);

  it('is replaced although its session and advisory lock live on, and once resumed sends and marks nothing', async () => {
    // Production's lease and timeouts: only the poll interval is the test's.
    const env = envOf(world.config);
    relays.push(await startAppProcess('relay', env, 'RELAY_PORT'), await startAppProcess('relay', env, 'RELAY_PORT'));
    const leaders = await eventually('exactly one active relay', () => Promise.all(relays.map((r) => r.metric('datarun_relay_leader'))), {
      until: (flags) => flags.filter((f) => f === 1).length === 1,
    });
    const [leader, standby] = [relays[leaders.indexOf(1)], relays[1 - leaders.indexOf(1)]];
    const units = 6;
    const round = async (r: number) => {
      for (let u = 0; u < units; u += 1) await completeCase(world, matter, `PAUSE-U${u}`, `PAUSE-W${u}`, 1 + ((r + u) % 5));
    };
    await round(0);
    await eventually('the first round completed', () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE state = 'completed'`), {
      until: (n) => n === units,
      timeoutMs: 60_000,
    });
    const [{ epoch: before }] = (await world.city.db.ownerQuery<{ epoch: string }>('SELECT epoch::text FROM relay_lease')).rows;

    // The pause: its process stops, its kernel keeps the connection (and the advisory lock) alive.
    leader.child.kill('SIGSTOP');
    const pausedAt = Date.now();
    for (let r = 1; r < 4; r += 1) await round(r);
    await eventually('every water transfer completed', () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE state = 'completed'`), {
      until: (n) => n === units * 4,
      timeoutMs: 90_000,
    });
    const tookOverIn = Date.now() - pausedAt;
    // The fault happened: the paused relay's session still holds the advisory lock, and the
    // standby leads under a newer epoch.
    const { rows: sessions } = await world.city.db.ownerQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`,
    );
    expect(sessions[0].n).toBeGreaterThanOrEqual(1);
    expect(await standby.metric('datarun_relay_leader')).toBe(1);
    const [{ epoch: after }] = (await world.city.db.ownerQuery<{ epoch: string }>('SELECT epoch::text FROM relay_lease')).rows;
    expect(Number(after)).toBeGreaterThan(Number(before));

    // Resumed, the old leader finds its lease gone: it publishes nothing more, and steps down.
    const publishedBefore = await eventually('the paused relay to answer again', async () => {
      leader.child.kill('SIGCONT');
      return leader.metric('datarun_relay_published_total');
    });
    await round(4);
    await eventually('the last round completed', () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE state = 'completed'`), {
      until: (n) => n === units * 5,
      timeoutMs: 60_000,
    });
    await eventually('the resumed relay stepped down', () => leader.metric('datarun_relay_leader'), { until: (v) => v === 0 });
    expect(await leader.metric('datarun_relay_published_total')).toBe(publishedBefore);

    // Nothing applied twice, each property's holders in the order its cases completed.
    const applied = water(world)
      .requests()
      .filter((r) => r.accountNumber.startsWith('PAUSE-W'));
    expect(new Set(applied.map((r) => r.requestId)).size).toBe(units * 5);
    const { rows } = await world.city.db.ownerQuery<{ message_key: string; ids: string[] }>(
      `SELECT message_key, array_agg(request_id::text ORDER BY seq) AS ids FROM transfer_request WHERE message_key LIKE 'PAUSE-U%' GROUP BY message_key`,
    );
    expect(rows).toHaveLength(units);
    for (const row of rows) expect(water(world).account(row.message_key.replace('PAUSE-U', 'PAUSE-W'))?.history).toEqual(row.ids);
    process.stdout.write(
      `relay paused: the standby delivered everything ${(tookOverIn / 1000).toFixed(1)} s after the pause (lease ${world.config.transfers.relayLeaseSeconds} s)\n`,
    );
  }, 240_000);
});

describe('poison on a utility topic', () => {
  let world: TransferWorld;
  let producer: KafkaMessaging;
  const matter = 'water-move-poison';

  beforeAll(async () => {
    world = await buildTransferWorld({ connectors: ['water'] });
    await registerWaterMatter(world, matter);
    producer = new KafkaMessaging(world.config.kafka);
  }, 120_000);
  afterAll(async () => {
    await producer?.close();
    await world?.close();
  }, 60_000);

  it('dead-letters a malformed and a schema-breaking event with their reasons and carries on', async () => {
    const topic = requestTopic('water', 'transfer');
    // The relay creates the topic once it sees the matter; the first real transfer proves it exists.
    const first = await completeCase(world, matter, 'POISON-U0', 'POISON-W0');
    await eventually('a first transfer', () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE case_id = $1 AND state = 'completed'`, [first]), {
      until: (n) => n === 1,
    });

    const broken = cloudEvent({ type: 'datarun.utility.transfer-requested.v1', source: 'intruder', data: { requestId: 'not-a-uuid', utility: 'water' } });
    await producer.publish(topic, [{ key: 'POISON-U1', value: 'this is not a CloudEvent' }, toKafkaMessage(broken, 'POISON-U1')]);
    const second = await completeCase(world, matter, 'POISON-U1', 'POISON-W1');

    await eventually(
      'the transfer after the poison',
      () => count(world, `SELECT count(*) AS n FROM transfer_request WHERE case_id = $1 AND state = 'completed'`, [second]),
      {
        until: (n) => n === 1,
      },
    );
    const letters = await eventually(
      'two dead letters recorded',
      async () => {
        const { rows } = await world.city.db.ownerQuery<{ reason: string; message_key: string; dead_lettered_by: string }>(
          `SELECT reason, message_key, dead_lettered_by FROM dead_letter WHERE topic = $1 ORDER BY dlq_offset`,
          [topic],
        );
        return rows;
      },
      { until: (rows) => rows.length >= 2 },
    );
    expect(letters).toHaveLength(2);
    expect(letters.map((l) => l.message_key)).toEqual(['POISON-U1', 'POISON-U1']);
    expect(letters.every((l) => l.dead_lettered_by === `datarun.connector.${world.utilities.water.id}`)).toBe(true);
    expect(letters[0].reason).toMatch(/not a CloudEvents 1\.0 binary-mode message/);
    expect(letters[1].reason).toMatch(/breaks schemas\/events\/transfer-requested\.v1\.json/);
    expect(
      water(world)
        .requests()
        .filter((r) => r.accountNumber.startsWith('POISON-W')),
    ).toHaveLength(2);
  }, 120_000);
});
