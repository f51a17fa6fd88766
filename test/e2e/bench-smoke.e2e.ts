// The benchmark harness (test/bench/harness.ts) on a tiny city for a few seconds, so that it
// cannot rot: counts, never speed. Load comes from separate processes, as in `npm run bench`.
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { auditAppendAndVerify } from '../bench/audit-verify.bench.js';
import {
  type AuditedPhaseResult,
  auditedPhase,
  pipelineBetween,
  pipelineTotals,
  bareHttpBaseline,
  type BenchDb,
  cpuSample,
  cpuSplit,
  lookupBodies,
  memoryOf,
  openCases,
  openTransferCases,
  parsePgbench,
  pgSelectBaseline,
  propagationPhase,
  relayDrainPhase,
  DRAIN_UTILITY,
} from '../bench/harness.js';
import { buildCity, type City } from '../support/exchange.js';
import { buildTransferWorld, type TransferWorld } from '../support/transfers.js';

const load = { connections: 4, warmupSeconds: 0.5, durationSeconds: 2 };

describe('benchmark harness smoke', () => {
  let city: City;
  let gatewayUrl: string;
  let db: BenchDb;
  let cases: Awaited<ReturnType<typeof openCases>>;

  beforeAll(async () => {
    city = await buildCity(200);
    await city.gateway.app.listen({ port: 0, host: '127.0.0.1' });
    gatewayUrl = `http://127.0.0.1:${(city.gateway.app.getHttpServer().address() as AddressInfo).port}`;
    db = { query: (sql, params) => city.db.ownerQuery(sql, params) };
    const buyers = city.people.filter((p) => p.spouseIdNumber).slice(0, 20);
    cases = await openCases(gatewayUrl, await city.hall.token('bench-clerk'), buyers, 4);
  }, 60_000);
  afterAll(() => city?.close());

  const expectCounted = (r: AuditedPhaseResult, rowsPerRequest: number) => {
    expect(r.failures).toBe(0);
    expect(r.measured.completed).toBeGreaterThan(0);
    expect(r.audit.requests).toBe((r.warm?.sent ?? 0) + (r.measured.sent ?? 0));
    expect(r.audit).toMatchObject({ rowsPerRequest, rows: r.audit.requests * rowsPerRequest, unexpectedRows: 0, exact: true });
  };

  it('opens one case per buyer', async () => {
    expect(cases).toHaveLength(20);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM service_case WHERE id = ANY($1::uuid[])', [cases.map((c) => c.caseId)]);
    expect(rows[0].n).toBe(20);
  });

  it('lookups: every request answered 2xx and audited exactly once; CPU, memory and the gateway pipeline readable', async () => {
    let before: ReturnType<typeof cpuSample> | undefined;
    let split: Record<string, number> = {};
    const pipeline0 = await pipelineTotals(gatewayUrl);
    const r = await auditedPhase('lookups', {
      gatewayUrl,
      token: await city.hall.token('bench-clerk'),
      cases,
      db,
      ...load,
      hooks: {
        onMeasureStart: () => void (before = cpuSample()),
        onMeasureEnd: (loadPid) => void (split = cpuSplit(before!, cpuSample(), { tests: process.pid, 'load generator': loadPid })),
      },
    });
    expectCounted(r, 1);
    expect(split['load generator']).toBeGreaterThan(0);
    expect(memoryOf(process.pid).peakRssMiB).toBeGreaterThan(0);
    // Every lookup's record went through one of the gateway's appends, most of them one round trip.
    const pipeline = pipelineBetween(pipeline0!, (await pipelineTotals(gatewayUrl))!);
    expect(pipeline.appends['one-trip']).toBeGreaterThan(0);
    expect(pipeline.appends.failed).toBeUndefined();
    expect(pipeline.meanAppendMs).toBeGreaterThan(0);
    expect(pipeline.meanFactsBatch).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('verifications and evidence bundles: counted the same way (a bundle item is a row)', async () => {
    expectCounted(await auditedPhase('verifications', { gatewayUrl, token: await city.hall.token('bench-clerk'), cases, db, ...load }), 1);
    expectCounted(await auditedPhase('evidence-bundles', { gatewayUrl, token: await city.hall.token('bench-clerk'), cases, db, ...load }), 3);
  }, 30_000);

  it('baselines: the pg select finds every record; the bare server answers every request', async () => {
    const select = await pgSelectBaseline({
      connectionString: city.db.config.database.url,
      schema: city.db.config.database.schema,
      keys: cases.map((c) => c.idNumber),
      ...load,
    });
    expect(select.measured.errors).toBe(0);
    expect(select.measured.completed).toBeGreaterThan(0);
    const bare = await bareHttpBaseline({ bodies: lookupBodies(cases), ...load });
    expect((bare.measured.non2xx ?? 0) + bare.measured.errors).toBe(0);
    expect(bare.measured.completed).toBeGreaterThan(0);
  }, 30_000);

  it("reads pgbench's output", () => {
    const out = 'number of failed transactions: 0 (0.000%)\nlatency average = 1.085 ms\ntps = 14741.966 (without initial connection time)\n';
    expect(parsePgbench(out)).toEqual({ tps: 14741.966, latencyMs: 1.085, failed: 0 });
    expect(() => parsePgbench('FATAL: too many clients')).toThrow(/no tps line/);
  });

  it('audit append and verification over a fresh schema', async () => {
    const r = await auditAppendAndVerify(300, { ...process.env, DATABASE_OWNER_URL: city.db.config.database.ownerUrl });
    expect(r.report).toMatchObject({ ok: true, checked: 300 });
    expect(r.appendPerSecond).toBeGreaterThan(0);
    // The schema is gone afterwards.
    const owner = new pg.Client({ connectionString: city.db.config.database.ownerUrl });
    await owner.connect();
    const { rows } = await owner.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'bench_audit_%_${process.pid}'`);
    await owner.end();
    expect(rows[0].n).toBe(0);
  }, 30_000);
});

describe('benchmark harness smoke: transfers', () => {
  let world: TransferWorld;
  let db: BenchDb;

  beforeAll(async () => {
    world = await buildTransferWorld();
    db = { query: (sql, params) => world.city.db.ownerQuery(sql, params) };
  }, 120_000);
  afterAll(() => world?.close(), 60_000);

  it('propagation: every completion reaches the three utilities and the case, each timed', async () => {
    const token = await world.city.hall.token('bench-clerk');
    const cases = await openTransferCases(world.config.transfers.gatewayPublicUrl, token, world.city.people, 3, 'smoke');
    const r = await propagationPhase({
      gatewayUrl: world.config.transfers.gatewayPublicUrl,
      token,
      sandboxUrl: world.sandboxUrl,
      db,
      cases,
      ratePerSecond: 10,
      timeoutSeconds: 30,
    });
    expect(r.unfinished).toBe(0);
    expect(r.toUtilityMs.count).toBe(9);
    expect(r.toCaseMs.count).toBe(3);
    expect(r.toCaseMs.p50).toBeGreaterThan(0);
    expect(r.toCaseMs.max).toBeGreaterThanOrEqual(r.toUtilityMs.p50);
  }, 60_000);

  it('relay drain: a backlog committed at once is published entirely, and counted', async () => {
    const r = await relayDrainPhase({ db, rows: 300, consumerId: world.city.hall.id, timeoutSeconds: 60 });
    expect(r).toMatchObject({ rows: 300, left: 0 });
    expect(r.eventsPerSecond).toBeGreaterThan(0);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM transfer_request WHERE utility = $1 AND state = 'published' AND sends = 1`, [
      DRAIN_UTILITY,
    ]);
    expect(rows[0].n).toBe(300);
    const audited = await db.query(`SELECT count(*)::int AS n FROM audit_event WHERE action = 'transfer.requested' AND reason LIKE $1`, [`%${DRAIN_UTILITY}%`]);
    expect(audited.rows[0].n).toBe(300);
  }, 90_000);
});
