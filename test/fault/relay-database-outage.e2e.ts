// Issue 17: PostgreSQL lost under the relay, as a clean cut (connections reset and refused) and as
// a silent blackhole (connections accepted, nothing answers, nothing refused: a dead host or a
// dropped route). The relay alone reaches the database through the test's TCP proxy; the city
// completes cases directly meanwhile, so the outbox fills while the relay cannot read it. With the
// production timeouts and lease, the relay must stop publishing (no row is marked while it cannot
// reach the database), say so in readiness, and publish every row once the database is back, the
// blackholed connections given up by its own timeouts.
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { buildTransferWorld, transferCaseBody, type TransferWorld } from '../support/transfers.js';

const MATTER = 'relay-outage-water-transfer';
const CASES = 20;

describe('the relay while its database is cut or blackholed', () => {
  let world: TransferWorld;
  let proxy: TcpProxy;
  let relay: TestApp;

  const rows = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await world.city.db.ownerQuery(sql, params)).rows as T[];
  const states = async (ids: readonly string[]) =>
    Object.fromEntries(
      (
        await rows<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM transfer_request WHERE request_id = ANY($1::uuid[]) GROUP BY state', [
          ids,
        ])
      ).map((r) => [r.state, r.n]),
    );

  /** Opens and completes `n` water-only cases, straight on the database; their request ids. */
  async function completeCases(label: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      const unit = `UNIT-${label}-${i}`;
      const opened = await world.city.gateway.http
        .post('/v1/cases')
        .set('authorization', await world.city.hall.auth())
        .send(transferCaseBody(world, { matter: MATTER, unit, accounts: { water: `W-${label}-${i}` } }))
        .expect(201);
      const done = await world.city.gateway.http
        .post(`/v1/cases/${opened.body.id}/complete`)
        .set('authorization', await world.city.hall.auth())
        .expect(200);
      ids.push(done.body.transfers[0].requestId);
    }
    return ids;
  }

  const allCompleted = (what: string, ids: readonly string[], timeoutMs: number) =>
    eventually(what, () => states(ids), { until: (s) => s.completed === ids.length, timeoutMs, everyMs: 250 });

  beforeAll(async () => {
    world = await buildTransferWorld({ people: 10, relay: false, connectors: ['water'] });
    await world.city.registry.http
      .post('/v1/matters')
      .set('authorization', await world.city.admin.auth())
      .send({ code: MATTER, title: '供水过户（数据库故障）', evidence: [], materials: [], onComplete: [{ notify: 'water', holderRole: 'buyer' }] })
      .expect(201);
    const direct = new URL(world.config.database.url);
    proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    await proxy.start();
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    relay = await bootApp(RelayModule.forRoot({ ...world.config, database: { ...world.config.database, url: viaProxy.toString() } }), 'relay');
    world.relays.push(relay);
  }, 120_000);
  afterAll(async () => {
    proxy?.restore();
    await world?.close();
    await proxy?.cut();
  }, 120_000);

  it('publishes nothing while the database is cut, and everything once it is back', async () => {
    await allCompleted('the warm-up delivered', await completeCases('warm', 1), 30_000);

    await proxy.cut();
    expect(await proxy.accepts()).toBe(false); // the fault: the relay's connections are reset and refused
    const ids = await completeCases('cut', CASES);
    const ready = await eventually('the relay unready', async () => (await relay.http.get('/health/ready')).body, {
      until: (b) => Array.isArray(b.failed) && b.failed.includes('database'),
      timeoutMs: 30_000,
    });
    expect(ready.failed).toContain('database');
    expect(await states(ids)).toEqual({ pending: CASES });

    await proxy.start();
    await allCompleted(`the ${CASES} cut-off requests delivered`, ids, 60_000);
    await relay.http.get('/health/ready').expect(200);
  }, 180_000);

  it('gives up on blackholed connections by its own timeouts, and publishes everything once the database answers again', async () => {
    await allCompleted('the warm-up delivered', await completeCases('warm2', 1), 30_000);

    const [{ epoch: before }] = await rows<{ epoch: string }>(`SELECT epoch::text FROM relay_lease`);
    proxy.blackhole();
    expect(await proxy.accepts()).toBe(true); // the fault: connections are accepted, and nothing answers
    const since = Date.now();
    const ids = await completeCases('hole', CASES);
    // Silence, not refusal: the relay's queries hang until its timeouts; nothing is published.
    await eventually('the relay unready', async () => (await relay.http.get('/health/ready')).body, {
      until: (b) => Array.isArray(b.failed) && b.failed.includes('database'),
      timeoutMs: 60_000,
    });
    expect(await states(ids)).toEqual({ pending: CASES });

    proxy.restore();
    await allCompleted(`the ${CASES} blackholed requests delivered`, ids, 120_000);
    await relay.http.get('/health/ready').expect(200);
    // It took the lease anew, although its old session (and advisory lock) still lives on the
    // server behind the blackhole.
    const [{ epoch: after }] = await rows<{ epoch: string }>(`SELECT epoch::text FROM relay_lease`);
    expect(Number(after)).toBeGreaterThan(Number(before));
    const ghosts = await rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'datarun-relay-lease' AND client_port IS NOT NULL`,
    );
    expect(ghosts[0].n).toBeGreaterThanOrEqual(2);
    process.stdout.write(`relay database blackhole: all ${CASES} requests delivered ${((Date.now() - since) / 1000).toFixed(1)} s after the blackhole began\n`);
  }, 240_000);
});
