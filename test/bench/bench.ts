// `npm run bench` (test/bench/run.sh builds, brings the infrastructure up on database
// datarun_bench and runs this from dist): apps if they are not answering, a synthetic population
// through the registry's ingest, a pool of cases, then every phase of issue 7 from separate load
// processes. Writes test/bench/results/<time>.json and prints a markdown table; with --record also
// docs/performance/results.json, the committed figures docs/performance.md is generated from
// (`npm run generate`). A missed target never fails the run; a harness failure does (exit 1).
//
//   node dist/test/bench/bench.js [--people 100000] [--cases 2000] [--duration 20] [--warmup 3]
//        [--concurrency 16,64] [--audit-records 1000000] [--skip-audit]
//        [--transfer-rate 20] [--drain-rows 50000] [--transfers-only] [--record [--note <text>]]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { mintToken } from '@datarun/auth';
import { requireSupportedNode, loadConfig } from '@datarun/config';
import { runMigrations } from '@datarun/db';
import pg from 'pg';
import {
  auditedPhase,
  type AuditedPhaseResult,
  bareHttpBaseline,
  type BaselineResult,
  type BenchDb,
  cpuSample,
  cpuSplit,
  machineTicks,
  type MeasureHooks,
  memoryOf,
  openCases,
  pgbenchBaseline,
  pgbenchInit,
  pgSelectBaseline,
  pickBuyers,
  pidListeningOn,
  type PipelineFigures,
  pipelineBetween,
  type PipelineTotals,
  pipelineTotals,
  resetPeakRss,
  openTransferCases,
  propagationPhase,
  type PropagationResult,
  relayDrainPhase,
  type DrainResult,
  UTILITY_KINDS,
} from './harness.js';
import type { AuditBenchResult } from './audit-verify.bench.js';
import { type ProfileShare, summariseProfile } from './profile.js';
import { RECORDED_RESULTS_PATH, recordedResultsOf, recordedResultsText, targetMeasured, targetVerdict } from './record.js';

requireSupportedNode('bench');

const execFileP = promisify(execFile);
const HALL = 'zj.demo.service-hall';
/** Every process the bench needs: the apps, and the connector of each utility kind's demo member (port = CONNECTOR_PORT + i). */
const APPS = ['gateway', 'registry', 'audit', 'relay', 'sandbox', 'connector-water', 'connector-electricity', 'connector-gas'] as const;
type AppName = (typeof APPS)[number];

const { values: args } = parseArgs({
  options: {
    people: { type: 'string', default: '100000' },
    cases: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16,64' },
    'audit-records': { type: 'string', default: '1000000' },
    'skip-audit': { type: 'boolean', default: false },
    'transfer-rate': { type: 'string', default: '20' },
    'drain-rows': { type: 'string', default: '50000' },
    // Only the transfer phases (and no audit phase): for working on propagation and the relay.
    'transfers-only': { type: 'boolean', default: false },
    // Only the lookups and their baselines: for working on the lookup path.
    'lookups-only': { type: 'boolean', default: false },
    // The gateway under node --cpu-prof, its profile summarised (test/bench/profile.ts).
    profile: { type: 'boolean', default: false },
    // Also write the committed summary (docs/performance/results.json) that `npm run generate` renders.
    record: { type: 'boolean', default: false },
    note: { type: 'string', default: '' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (args.help) {
  console.log(`usage: npm run bench -- [options]      (test/bench/run.sh: infrastructure, database datarun_bench, build, then this)
  --people N          synthetic people loaded through the registry's ingest (default 100000, at most 1000000)
  --cases N           cases opened for the lookup phases, one married buyer each (default 2000)
  --duration S        measured seconds of each load phase (default 20)
  --warmup S          warm-up seconds before each load phase (default 3)
  --concurrency L     comma-separated connection counts of the lookup and baseline phases (default 16,64)
  --audit-records N   audit events appended and verified in isolation (default 1000000)
  --skip-audit        leave out the audit append and verification phase
  --transfer-rate R   completions a second in the propagation phase (default 20)
  --drain-rows N      outbox rows the relay drains in the drain phase (default 50000)
  --transfers-only    only the transfer phases (propagation and relay drain)
  --lookups-only      only the lookups and their baselines (pg select, pgbench, bare HTTP)
  --profile           run the gateway under node --cpu-prof (.local/bench/profiles/) and summarise where its CPU goes
  --record            also write ${RECORDED_RESULTS_PATH} (committed; npm run generate renders it)
  --note TEXT         with --record: the load conditions to keep with the figures
Results of every run: test/bench/results/<time>.json (git-ignored). A missed target never fails the run.`);
  process.exit(0);
}
const people = Number(args.people);
const caseCount = Number(args.cases);
const durationSeconds = Number(args.duration);
const warmupSeconds = Number(args.warmup);
const concurrencies = args.concurrency!.split(',').map(Number);
const auditRecords = Number(args['audit-records']);
const transferRate = Number(args['transfer-rate']);
const drainRows = Number(args['drain-rows']);
for (const [name, v] of Object.entries({
  people,
  caseCount,
  durationSeconds,
  warmupSeconds,
  auditRecords,
  ...Object.fromEntries(concurrencies.map((c, i) => [`concurrency${i}`, c])),
})) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`bench: ${name} must be a number, got ${v}`);
}

const log = (line: string) => console.log(`bench: ${line}`);
const started = new Date();
const loadAverageAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
const config = loadConfig({ ...process.env, SANDBOX_PEOPLE: String(people) });
const dbName = new URL(config.database.ownerUrl).pathname.slice(1);
if (!/_bench$/.test(dbName) && !process.env.BENCH_ALLOW_ANY_DATABASE) {
  throw new Error(`bench: refusing to run on database "${dbName}" (expected a *_bench database; run through npm run bench, which uses datarun_bench)`);
}

const ownerPool = new pg.Pool({ connectionString: config.database.ownerUrl, max: 2, options: `-c search_path=${config.database.schema}` });
const db: BenchDb = { query: (sql, params) => ownerPool.query(sql, params as unknown[]) };
const spawned = new Map<AppName, ChildProcess>();
const connectorKind = (app: AppName) => (app.startsWith('connector-') ? app.slice('connector-'.length) : undefined);
const portOf = (app: AppName): number => {
  const kind = connectorKind(app);
  return kind
    ? config.ports.connector + UTILITY_KINDS.indexOf(kind as (typeof UTILITY_KINDS)[number])
    : config.ports[app as Exclude<AppName, `connector-${string}`>];
};
/** The build this file is part of (dist/ under npm run bench): the apps and scripts it starts come from the same build. */
const BUILD_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const mainOf = (app: AppName) => join(BUILD_ROOT, `apps/${connectorKind(app) ? 'connector' : app}/src/main.js`);
/** A connector runs as the demo city's member of its kind, its inbox a file of the bench's own (not `npm start`'s). */
const envOf = (app: AppName): Record<string, string> => {
  const kind = connectorKind(app);
  if (!kind) return {};
  const member = `zj.demo.${kind}`;
  return {
    CONNECTOR_MEMBER_ID: member,
    CONNECTOR_UTILITY_KIND: kind,
    CONNECTOR_PORT: String(portOf(app)),
    CONNECTOR_INBOX: join(config.localDir, 'bench', `${member}.inbox.sqlite`),
  };
};
const errors: string[] = [];
/** Where --profile has the gateway write its CPU profile (when it exits). */
const PROFILE_DIR = join('.local/bench/profiles', new Date().toISOString().replace(/[:.]/g, '-'));
let profile: { file: string; lookupsConcurrency: number; shares: ProfileShare[] } | undefined;
/** The measured window of each lookups phase, in microseconds of the monotonic clock (the profile's). */
const lookupWindows = new Map<number, { from: number; to: number }>();
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

async function ready(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

async function waitReady(app: AppName, port: number, seconds = 90): Promise<void> {
  for (let i = 0; i < seconds * 4; i++) {
    if (await ready(port)) return;
    const child = spawned.get(app);
    if (child && child.exitCode !== null) throw new Error(`${app} exited (code ${child.exitCode}); see .local/bench/${app}.log`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${app} not ready on :${port} after ${seconds} s`);
}

async function stopSpawned(): Promise<void> {
  await Promise.all(
    [...spawned.entries()].map(
      ([, child]) =>
        new Promise<void>((res) => {
          if (child.exitCode !== null || child.signalCode !== null) return res();
          const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => (clearTimeout(t), res()));
          child.kill('SIGTERM');
        }),
    ),
  );
}

async function run(cmd: string, argv: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await execFileP(cmd, argv, { env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return stdout;
}

/** The four replica sources hold the requested population (household and marriage: one record a person). */
async function populationLoaded(): Promise<{ ok: boolean; counts: Record<string, number> }> {
  const { rows } = await db
    .query(`SELECT source_id, count(*)::int AS n FROM source_record GROUP BY source_id`)
    .catch(() => ({ rows: [] as Array<Record<string, unknown>> }));
  const counts = Object.fromEntries(rows.map((r) => [String(r.source_id), Number(r.n)]));
  const ok = counts.household === people && counts.marriage === people && counts['social-security'] > 0 && counts['social-security'] === counts.property;
  return { ok, counts };
}

const phases: {
  lookups: AuditedPhaseResult[];
  pgSelect: BaselineResult[];
  pgbench: Array<Record<string, unknown>>;
  bareHttp: BaselineResult[];
  verifications?: AuditedPhaseResult;
  bundles?: AuditedPhaseResult;
} = {
  lookups: [],
  pgSelect: [],
  pgbench: [],
  bareHttp: [],
};
const footprint: Record<string, unknown> = {};
let propagation: PropagationResult | undefined;
let relayDrain: DrainResult | undefined;
const setup: Record<string, unknown> = {};
let audit: AuditBenchResult | { error: string } | { skipped: true } | undefined;

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T | undefined> {
  const t0 = performance.now();
  try {
    const out = await fn();
    log(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return out;
  } catch (error) {
    const message = `${name}: ${(error as Error).message}`;
    errors.push(message);
    console.error(`bench: FAILED ${message}`);
    return undefined;
  }
}

try {
  // 1. Apps and data.
  const status = Object.fromEntries(await Promise.all(APPS.map(async (a) => [a, await ready(portOf(a))] as const))) as Record<AppName, boolean>;
  log(`database ${dbName}; apps answering: ${APPS.filter((a) => status[a]).join(', ') || 'none'}`);
  await runMigrations(config.database);
  const loaded0 = await populationLoaded();
  const tLoad = performance.now();
  if (!loaded0.ok) {
    if (Object.keys(loaded0.counts).length > 0) {
      log(`replicas hold ${JSON.stringify(loaded0.counts)}, not ${people} people: reloading`);
      await db.query(`DELETE FROM source_record WHERE source_id IN ('household', 'marriage', 'social-security', 'property')`);
    }
    log(`loading ${people.toLocaleString('en')} synthetic people through the registry's ingest (scripts/seed-demo)`);
  }
  process.stdout.write(await run(process.execPath, [join(BUILD_ROOT, 'scripts/seed-demo.js')], { SANDBOX_PEOPLE: String(people) }));
  const loaded = await populationLoaded();
  if (!loaded.ok) throw new Error(`population not in place after seeding: ${JSON.stringify(loaded.counts)}`);
  setup.population = {
    people,
    records: loaded.counts,
    loadSeconds: loaded0.ok ? null : Math.round((performance.now() - tLoad) / 100) / 10,
    reused: loaded0.ok,
  };

  mkdirSync('.local/bench', { recursive: true });
  for (const app of APPS) {
    if (status[app]) continue;
    const out = createWriteStream(`.local/bench/${app}.log`);
    const child = spawn(process.execPath, [...(app === 'gateway' && args.profile ? [`--cpu-prof`, `--cpu-prof-dir=${PROFILE_DIR}`] : []), mainOf(app)], {
      env: { ...process.env, SANDBOX_PEOPLE: String(people), ...envOf(app) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    spawned.set(app, child);
  }
  for (const app of APPS) await waitReady(app, portOf(app));
  const gatewayPid = spawned.get('gateway')?.pid ?? (await pidListeningOn(config.ports.gateway));
  setup.apps = Object.fromEntries(APPS.map((a) => [a, spawned.has(a) ? 'started by the bench' : 'already running']));
  log(
    `apps ready (${Object.entries(setup.apps as object)
      .map(([a, s]) => `${a}: ${s}`)
      .join(', ')}); gateway pid ${gatewayPid ?? 'unknown'}`,
  );

  const gatewayUrl = `http://127.0.0.1:${config.ports.gateway}`;
  const hallKey = readFileSync(`${config.localDir}/keys/${HALL}.key.pem`, 'utf8');
  // mintToken is asynchronous (jose): awaited at every use.
  const token = async (): Promise<string> => mintToken({ issuer: HALL, kid: HALL, privateKey: hallKey, subject: 'bench-clerk', lifetimeSec: 600 });

  const t0 = performance.now();
  const buyers = pickBuyers(people, config.sandbox.seed, caseCount);
  const cases = await openCases(gatewayUrl, await token(), buyers);
  const { rows: seen } = await db.query('SELECT count(*)::int AS n FROM service_case WHERE id = ANY($1::uuid[])', [cases.map((c) => c.caseId)]);
  if (Number(seen[0].n) !== cases.length) {
    throw new Error(
      `the gateway on :${config.ports.gateway} does not write to ${dbName} (found ${seen[0].n} of ${cases.length} cases there): stop the apps running on the default ports or point them at ${dbName}`,
    );
  }
  setup.cases = { opened: cases.length, seconds: Math.round((performance.now() - t0) / 100) / 10 };
  log(`${cases.length} cases opened, one married buyer each, spread over the population`);

  const load = { warmupSeconds, durationSeconds };
  // CPU split and peak RSS around the measured window of a phase.
  const watch = (key: string): MeasureHooks => {
    let before: ReturnType<typeof cpuSample>;
    let m0: ReturnType<typeof machineTicks>;
    let t: number;
    let pipeline0: PipelineTotals | undefined;
    return {
      async onMeasureStart() {
        pipeline0 = await pipelineTotals(gatewayUrl);
        if (gatewayPid) resetPeakRss(gatewayPid);
        before = cpuSample();
        m0 = machineTicks();
        t = performance.now();
      },
      async onMeasureEnd(loadPid) {
        const wall = (performance.now() - t) / 1000;
        const after = cpuSample();
        const m1 = machineTicks();
        const pipeline1 = await pipelineTotals(gatewayUrl);
        // PostgreSQL backends by database: this bench's, or someone else's on the same server.
        const { rows } = await db.query('SELECT pid, datname FROM pg_stat_activity WHERE datname IS NOT NULL');
        const backends = Object.fromEntries(rows.map((r) => [Number(r.pid), r.datname === dbName ? 'postgres' : 'postgres (other databases)']));
        for (const [pid, p] of after) if (p.comm === 'postgres' && !(pid in backends)) backends[pid] = 'postgres';
        const split = cpuSplit(
          before,
          after,
          {
            gateway: gatewayPid,
            'load generator': loadPid,
            registry: spawned.get('registry')?.pid,
            audit: spawned.get('audit')?.pid,
            'bench harness': process.pid,
          },
          backends,
        );
        footprint[key] = {
          wallSeconds: Math.round(wall * 10) / 10,
          cpuSeconds: split,
          machineBusyPercent: Math.round((1000 * (m1.busy - m0.busy)) / (m1.total - m0.total)) / 10,
          gatewayMemory: gatewayPid ? memoryOf(gatewayPid) : null,
          gatewayPipeline: pipeline0 && pipeline1 ? pipelineBetween(pipeline0, pipeline1) : null,
        };
      },
    };
  };

  if (!args['transfers-only']) {
    // 2. Lookups at each concurrency, audited one row per request.
    for (const c of concurrencies) {
      const hooks = watch(`lookups c=${c}`);
      const window = { from: 0, to: 0 };
      const timed: MeasureHooks = {
        async onMeasureStart(loadPid) {
          window.from = monotonicMicros();
          await hooks.onMeasureStart?.(loadPid);
        },
        async onMeasureEnd(loadPid) {
          window.to = monotonicMicros();
          await hooks.onMeasureEnd?.(loadPid);
        },
      };
      lookupWindows.set(c, window);
      const r = await phase(`lookups c=${c}`, async () =>
        auditedPhase('lookups', { gatewayUrl, token: await token(), cases, db, connections: c, ...load, hooks: timed }),
      );
      if (r) phases.lookups.push(r);
    }
    // 3. Baselines on the same data at the same concurrency.
    const keys = cases.map((c) => c.idNumber);
    for (const c of concurrencies) {
      const r = await phase(`pg select c=${c}`, () =>
        pgSelectBaseline({
          connectionString: config.database.url,
          schema: config.database.schema,
          keys,
          connections: c,
          ...load,
          hooks: watch(`pg select c=${c}`),
        }),
      );
      if (r) phases.pgSelect.push(r);
    }
    if ((await phase('pgbench -i -s 10', () => pgbenchInit(config.database.ownerUrl, db, 10))) !== undefined) {
      for (const c of concurrencies) {
        const r = await phase(`pgbench -S c=${c}`, () => pgbenchBaseline({ ownerUrl: config.database.ownerUrl, connections: c, ...load }));
        if (r) phases.pgbench.push(r);
      }
    }
    const bodies = cases.map((c) => JSON.stringify({ source: 'household', subject: { idNumber: c.idNumber }, purpose: 'property-transfer', caseId: c.caseId }));
    for (const c of concurrencies) {
      const r = await phase(`bare node:http c=${c}`, () => bareHttpBaseline({ bodies, connections: c, ...load }));
      if (r) phases.bareHttp.push(r);
    }
    // 4. Verifications and evidence bundles at concurrency 16.
    if (!args['lookups-only']) {
      phases.verifications = await phase('verifications c=16', async () =>
        auditedPhase('verifications', { gatewayUrl, token: await token(), cases, db, connections: 16, ...load, hooks: watch('verifications c=16') }),
      );
      phases.bundles = await phase('evidence bundles c=16', async () =>
        auditedPhase('evidence-bundles', { gatewayUrl, token: await token(), cases, db, connections: 16, ...load, hooks: watch('evidence bundles c=16') }),
      );
    }
    if (gatewayPid) footprint.gatewayAfterRun = memoryOf(gatewayPid);
  }
  if (args['lookups-only']) audit = { skipped: true };
  else {
    // 5. Transfers: completion -> outbox -> relay -> Kafka -> three connectors -> statuses -> case.
    const warmCount = Math.max(1, Math.ceil(transferRate * warmupSeconds));
    const pairs = pickBuyers(people, config.sandbox.seed, Math.max(2, (Math.ceil(transferRate * durationSeconds) + warmCount) * 2));
    const allTransferCases = await phase('transfer cases', async () =>
      openTransferCases(gatewayUrl, await token(), pairs, Math.ceil(transferRate * durationSeconds) + warmCount, started.getTime().toString(36)),
    );
    if (allTransferCases) {
      // The earlier phases left PostgreSQL with dirty pages to write (their audit rows): write them
      // now rather than in the middle of this phase, then warm the pipeline up like the others.
      await db.query('CHECKPOINT');
      const warm = allTransferCases.slice(0, warmCount);
      const transferCases = allTransferCases.slice(warmCount);
      await phase(`propagation warm-up (${warmCount} cases)`, async () =>
        propagationPhase({
          gatewayUrl,
          token: await token(),
          sandboxUrl: `http://127.0.0.1:${config.ports.sandbox}`,
          db,
          cases: warm,
          ratePerSecond: transferRate,
          timeoutSeconds: 60,
        }),
      );
      propagation = await phase(`propagation at ${transferRate} completions/s`, async () =>
        propagationPhase({
          gatewayUrl,
          token: await token(),
          sandboxUrl: `http://127.0.0.1:${config.ports.sandbox}`,
          db,
          cases: transferCases,
          ratePerSecond: transferRate,
          timeoutSeconds: 120,
        }),
      );
    }
    relayDrain = await phase(`relay drain of ${drainRows.toLocaleString('en')} outbox rows`, () =>
      relayDrainPhase({ db, rows: drainRows, consumerId: HALL, timeoutSeconds: 300 }),
    );

    // 6. Audit append and verification in isolation (a fresh schema in the same database).
    if (args['skip-audit'] || args['transfers-only']) audit = { skipped: true };
    else {
      await stopSpawned(); // the machine to itself, as "in isolation" means
      audit = (await phase(`audit append + verify (${auditRecords.toLocaleString('en')} records)`, async () => {
        const out = await run(process.execPath, [join(BUILD_ROOT, 'test/bench/audit-verify.bench.js'), String(auditRecords)], {});
        return JSON.parse(out.trim().split('\n').pop()!) as AuditBenchResult;
      })) ?? { error: errors[errors.length - 1] };
    }
  }
} catch (error) {
  errors.push(`setup: ${(error as Error).message}`);
  console.error(`bench: FAILED ${(error as Error).message}`);
} finally {
  await stopSpawned();
}
if (args.profile) {
  // Written by the gateway as it exited: the measured window of the lookups at the highest concurrency.
  const top = phases.lookups[phases.lookups.length - 1];
  const file = existsSync(PROFILE_DIR) ? readdirSync(PROFILE_DIR, { withFileTypes: true }).find((f) => f.name.endsWith('.cpuprofile')) : undefined;
  if (!top || !file) errors.push(`profile: ${file ? 'no lookups phase ran' : `no profile in ${PROFILE_DIR} (was the gateway already running?)`}`);
  else {
    const path = join(PROFILE_DIR, file.name);
    profile = { file: path, lookupsConcurrency: top.connections, shares: summariseProfile(path, lookupWindows.get(top.connections)!, top.audit.requests) };
  }
}

// 7. Results: JSON and the table.
const pgVersion = await db
  .query('SHOW server_version')
  .then((r) => String(r.rows[0].server_version))
  .catch(() => 'unknown');
await ownerPool.end();
const kafkaJar = (() => {
  try {
    return readdirSync(`${config.localDir}/kafka/libs`).find((f) => /^kafka_2\.13-[\d.]+\.jar$/.test(f));
  } catch {
    return undefined;
  }
})();
const lookupAt = (c: number) => phases.lookups.find((p) => p.connections === c);
const ratios = Object.fromEntries(
  concurrencies.map((c) => {
    const l = lookupAt(c)?.measured.requestsPerSecond;
    const s = phases.pgSelect.find((p) => p.connections === c)?.measured.requestsPerSecond;
    const h = phases.bareHttp.find((p) => p.connections === c)?.measured.requestsPerSecond;
    const b = phases.pgbench.find((p) => p.connections === c)?.tps as number | undefined;
    return [
      `c=${c}`,
      {
        lookupOverPgSelect: l && s ? round(l / s, 3) : null,
        lookupOverBareHttp: l && h ? round(l / h, 3) : null,
        lookupOverPgbench: l && b ? round(l / b, 3) : null,
      },
    ];
  }),
);
const result = {
  startedAt: started.toISOString(),
  finishedAt: new Date().toISOString(),
  machine: { cores: cpus().length, model: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1), kernel: release() },
  versions: { node: process.version, postgres: pgVersion, kafka: kafkaJar?.replace(/^kafka_2\.13-|\.jar$/g, '') ?? 'unknown' },
  parameters: {
    people,
    cases: caseCount,
    warmupSeconds,
    durationSeconds,
    concurrencies,
    auditRecords,
    transferRate,
    drainRows,
    skipAudit: args['skip-audit'],
    transfersOnly: args['transfers-only'],
    lookupsOnly: args['lookups-only'],
    database: dbName,
  },
  conditions: { loadAverageAtStart, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
  setup,
  phases,
  ratios,
  propagation: propagation ?? null,
  relayDrain: relayDrain ?? null,
  audit,
  footprint,
  ...(profile ? { profile } : {}),
  errors,
};
mkdirSync('test/bench/results', { recursive: true });
const file = `test/bench/results/${started.toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\n${table()}\nbench: results in ${file}${errors.length ? `; ${errors.length} harness failure(s)` : ''}`);
if (args.record) {
  mkdirSync(dirname(RECORDED_RESULTS_PATH), { recursive: true });
  writeFileSync(RECORDED_RESULTS_PATH, await recordedResultsText(recordedResultsOf(result, args.note)));
  console.log(`bench: recorded in ${RECORDED_RESULTS_PATH}; run npm run generate to render docs/performance.md`);
}
process.exit(errors.length ? 1 : 0);

function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function table(): string {
  const fmt = (n: number | undefined | null, digits = 0) =>
    n === undefined || n === null || Number.isNaN(n) ? '—' : n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const a = audit && 'verifyPerSecond' in audit ? audit : undefined;
  // The targets as the committed summary states them (record.ts): one definition for both.
  const targets = recordedResultsOf(result).targets;
  const lines = [
    `Targets (${result.machine.cores} cores, ${result.machine.model}, ${started.toISOString().slice(0, 10)}, ${people.toLocaleString('en')} people):`,
    '',
    '| figure | target | measured | |',
    '|---|---|---|---|',
    ...targets.map((t) => `| ${t.figure} | ${t.target} | ${targetMeasured(t)} | ${targetVerdict(t)} |`),
    '',
    '| phase | conc. | requests/s | p50 ms | p99 ms | p99.9 ms | errors | audit rows / expected |',
    '|---|---|---|---|---|---|---|---|',
    ...phases.lookups.map((p) => httpRow('POST /v1/lookups', p)),
    ...phases.pgSelect.map(
      (p) =>
        `| pg primary-key select (Node, pg) | ${p.connections} | ${fmt(p.measured.requestsPerSecond)} | ${fmt(p.measured.latencyMs.p50, 2)} | ${fmt(p.measured.latencyMs.p99, 2)} | ${fmt(p.measured.latencyMs.p99_9, 2)} | ${p.measured.errors} | — |`,
    ),
    ...phases.pgbench.map(
      (p) =>
        `| pgbench -S -M prepared (TPS, -j 2) | ${p.connections} | ${fmt(p.tps as number)} | avg ${fmt(p.latencyMs as number, 2)} | — | — | ${p.failed} | — |`,
    ),
    ...phases.bareHttp.map(
      (p) =>
        `| bare node:http (constant) | ${p.connections} | ${fmt(p.measured.requestsPerSecond)} | ${fmt(p.measured.latencyMs.p50)} | ${fmt(p.measured.latencyMs.p99)} | ${fmt(p.measured.latencyMs.p99_9)} | ${(p.measured.non2xx ?? 0) + p.measured.errors} | — |`,
    ),
    ...(phases.verifications ? [httpRow('POST /v1/verifications', phases.verifications)] : []),
    ...(phases.bundles ? [httpRow('POST /v1/evidence-bundles (3 items)', phases.bundles)] : []),
    ...(a
      ? [
          `| audit append (group commit, isolated) | 2,000 in flight | ${fmt(a.appendPerSecond)} events/s | — | — | — | — | — |`,
          `| audit verification | — | ${fmt(a.verifyPerSecond)} records/s (${fmt(a.report.checked)} in ${fmt(a.verifySeconds, 1)} s, ok=${a.report.ok}) | — | — | — | — | — |`,
        ]
      : []),
    '',
    `Ratios: ${Object.entries(ratios)
      .map(
        ([c, r]) =>
          `${c}: lookup ÷ bare node:http ${fmt(r.lookupOverBareHttp, 3)}, lookup ÷ pgbench ${fmt(r.lookupOverPgbench, 3)}, lookup ÷ pg select ${fmt(r.lookupOverPgSelect, 3)}`,
      )
      .join('; ')}`,
    ...Object.entries(footprint)
      .filter(([, f]) => (f as { cpuSeconds?: unknown }).cpuSeconds)
      .map(([k, f]) => {
        const x = f as { wallSeconds: number; cpuSeconds: Record<string, number>; machineBusyPercent: number; gatewayMemory: { peakRssMiB: number } | null };
        const parts = Object.entries(x.cpuSeconds)
          .sort((p, q) => q[1] - p[1])
          .map(([g, s]) => `${g} ${fmt(s / x.wallSeconds, 2)}`)
          .join(', ');
        return `CPU (cores) during ${k}: ${parts}; machine busy ${x.machineBusyPercent}%${x.gatewayMemory ? `; gateway peak RSS ${x.gatewayMemory.peakRssMiB} MiB` : ''}`;
      }),
    ...Object.entries(footprint)
      .map(([k, f]) => [k, (f as { gatewayPipeline?: PipelineFigures | null }).gatewayPipeline] as const)
      .filter(([, p]) => p && Object.keys(p.appends).length > 0)
      .map(([k, p]) => {
        const total = Object.values(p!.appends).reduce((a, b) => a + b, 0);
        const ways = Object.entries(p!.appends)
          .map(([way, n]) => `${way} ${fmt((100 * n) / total, 1)}%`)
          .join(', ');
        return `Gateway pipeline during ${k}: ${fmt(total)} audit appends (${ways}), ${fmt(p!.meanAppendMs, 2)} ms each on average; facts batches of ${fmt(p!.meanFactsBatch, 1)} lookups on average`;
      }),
    ...(profile
      ? [
          '',
          `Where the gateway's time went during the lookups at concurrency ${profile.lookupsConcurrency} (${profile.file}; open it in Chrome DevTools or speedscope for the flame graph):`,
          '',
          '| kind of work | share of samples | µs per lookup |',
          '|---|---|---|',
          ...profile.shares.map((p) => `| ${p.kind} | ${fmt(p.percent, 1)}% | ${fmt(p.microsecondsPerRequest, 1)} |`),
        ]
      : []),
  ];
  return lines.join('\n');

  function httpRow(name: string, p: AuditedPhaseResult): string {
    const m = p.measured;
    return `| ${name} | ${p.connections} | ${fmt(m.requestsPerSecond)} | ${fmt(m.latencyMs.p50)} | ${fmt(m.latencyMs.p99)} | ${fmt(m.latencyMs.p99_9)} | ${p.failures} | ${fmt(p.audit.rows)} / ${fmt(p.audit.requests * p.audit.rowsPerRequest)}${p.audit.exact ? '' : ' **mismatch**'} |`;
  }
}
