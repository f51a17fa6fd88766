// The benchmark's phases as functions of base URLs, tokens and database handles, so that
// `npm run bench` (test/bench/bench.ts) and the smoke inside `npm test` (test/e2e/bench-smoke.e2e.ts)
// run the same code. Load always comes from a separate process (test/bench/children/*.mjs).
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { generatePopulation, type PersonSummary } from '@datarun/population';

export const MATTER = 'property-transfer';
const CHILDREN = resolve('test/bench/children');

/** Runs SQL as the owner in the schema the apps use (audit row counts, sanity checks). */
export interface BenchDb {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

export interface LoadOptions {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
}

export interface Latency {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p99_9: number;
  readonly max: number;
}

export interface RunFigures {
  readonly sent?: number;
  readonly completed: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: Latency;
  readonly non2xx?: number;
  readonly errors: number;
  readonly timeouts?: number;
  readonly resets?: number;
  readonly statusCodes?: Record<string, { count: number }>;
}

/** Called with the load process's pid when the measured window starts and when it ends. */
export interface MeasureHooks {
  onMeasureStart?(loadPid: number): void | Promise<void>;
  onMeasureEnd?(loadPid: number): void | Promise<void>;
}

export interface CaseRef {
  readonly caseId: string;
  readonly idNumber: string;
}

// ---------------------------------------------------------------------------------------------
// Subjects and cases

/**
 * `count` married people spread evenly over the synthetic population (the one the seed loaded:
 * same size and seed), so that requests touch the whole table, not its first pages.
 */
export function pickBuyers(people: number, seed: number, count: number): PersonSummary[] {
  const stride = Math.max(1, Math.floor(people / (count * 1.9)));
  const picked: PersonSummary[] = [];
  let i = 0;
  for (const person of generatePopulation({ people, seed }).people()) {
    if (i++ % stride === 0 && person.spouseIdNumber) picked.push(person);
    if (picked.length === count) break;
  }
  return picked;
}

/** Opens one property-transfer case per buyer through POST /v1/cases, `parallel` at a time. */
export async function openCases(gatewayUrl: string, token: string, buyers: readonly PersonSummary[], parallel = 16): Promise<CaseRef[]> {
  const cases: CaseRef[] = new Array(buyers.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, buyers.length) }, async () => {
      while (next < buyers.length) {
        const i = next++;
        const b = buyers[i];
        const res = await fetch(`${gatewayUrl}/v1/cases`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ matter: MATTER, parties: [{ idNumber: b.idNumber, name: b.name, role: 'buyer' }], materials: [] }),
        });
        const body = (await res.json()) as { id?: string };
        if (res.status !== 201 || !body.id) throw new Error(`POST /v1/cases answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
        cases[i] = { caseId: body.id, idNumber: b.idNumber };
      }
    }),
  );
  return cases;
}

export const lookupBodies = (cases: readonly CaseRef[]) =>
  cases.map((c) => JSON.stringify({ source: 'household', subject: { idNumber: c.idNumber }, purpose: MATTER, caseId: c.caseId }));
export const verificationBodies = (cases: readonly CaseRef[]) =>
  cases.map((c) =>
    JSON.stringify({ source: 'marriage', subject: { idNumber: c.idNumber }, purpose: MATTER, caseId: c.caseId, claims: { maritalStatus: 'married' } }),
  );
export const bundleBodies = (cases: readonly CaseRef[]) => cases.map((c) => JSON.stringify({ caseId: c.caseId }));

// ---------------------------------------------------------------------------------------------
// Child processes

interface ChildMessage {
  type: string;
  message?: string;
  [key: string]: unknown;
}

/** Forks a child of test/bench/children, sends it `spec`, relays measure hooks, resolves with its 'done' message. */
function runChild(file: string, spec: object, hooks: MeasureHooks = {}, timeoutMs = 600_000): Promise<ChildMessage> {
  const child = fork(resolve(CHILDREN, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [], env: { ...process.env, NODE_OPTIONS: '' } });
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    let reported = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`${file} did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
    child.on('message', (m: ChildMessage) => {
      void (async () => {
        try {
          if (m.type === 'measure-start') await hooks.onMeasureStart?.(child.pid!);
          else if (m.type === 'done') {
            reported = true;
            await hooks.onMeasureEnd?.(child.pid!);
            if (!settled) {
              settled = true;
              clearTimeout(timer);
              resolvePromise(m);
            }
          } else if (m.type === 'error') fail(new Error(`${file}: ${m.message}`));
        } catch (error) {
          fail(error as Error);
        }
      })();
    });
    child.on('error', fail);
    child.on('exit', (code, signal) => reported || fail(new Error(`${file} exited (${signal ?? `code ${code}`}) before reporting`)));
    child.send(spec);
  });
}

export interface HttpLoadSpec extends LoadOptions {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly token?: string;
  readonly bodies?: readonly string[];
}

/** Drives HTTP load with autocannon in a child process: a warm-up, then the measured run. */
export async function httpLoad(spec: HttpLoadSpec, hooks?: MeasureHooks): Promise<{ warm: RunFigures | null; measured: RunFigures }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  const done = await runChild(
    'load.mjs',
    {
      url: spec.url,
      method: spec.method,
      path: spec.path,
      headers,
      bodies: spec.bodies ?? [],
      connections: spec.connections,
      warmupSeconds: spec.warmupSeconds,
      durationSeconds: spec.durationSeconds,
    },
    hooks,
  );
  return { warm: done.warm as RunFigures | null, measured: done.measured as RunFigures };
}

// ---------------------------------------------------------------------------------------------
// The gateway's pipeline, from its own /metrics: what its audit appends and facts batches did

/** Running totals of the gateway's pipeline metrics (counts and sums since it started). */
export type PipelineTotals = Readonly<Record<string, number>>;

/** The gateway's pipeline totals now, or undefined when its /metrics does not answer. */
export async function pipelineTotals(gatewayUrl: string): Promise<PipelineTotals | undefined> {
  try {
    const res = await fetch(`${gatewayUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const totals: Record<string, number> = {};
    // e.g. `datarun_audit_append_seconds_count{way="one-trip"} 412`, `datarun_lookup_facts_batch_size_sum 6012`
    const series = /^(datarun_audit_append_seconds|datarun_lookup_facts_batch_size)_(sum|count)(?:\{way="([^"]+)"\})? (\S+)$/gm;
    for (const m of (await res.text()).matchAll(series)) totals[`${m[1]}:${m[2]}${m[3] ? `:${m[3]}` : ''}`] = Number(m[4]);
    return totals;
  } catch {
    return undefined;
  }
}

export interface PipelineFigures {
  /** Audit appends (group commits) by way: one-trip, locked, failed. */
  readonly appends: Readonly<Record<string, number>>;
  /** Mean duration of an append, every way, in milliseconds. */
  readonly meanAppendMs: number | null;
  /** Mean lookups a facts statement served. */
  readonly meanFactsBatch: number | null;
}

/** What the pipeline did between two readings of its totals. */
export function pipelineBetween(before: PipelineTotals, after: PipelineTotals): PipelineFigures {
  const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
  const appends: Record<string, number> = {};
  let count = 0;
  let seconds = 0;
  for (const key of Object.keys(after)) {
    const [name, kind, way] = key.split(':');
    if (name !== 'datarun_audit_append_seconds' || !way) continue;
    if (kind === 'count' && delta(key) > 0) {
      appends[way] = delta(key);
      count += delta(key);
    }
    if (kind === 'sum') seconds += delta(key);
  }
  const batches = delta('datarun_lookup_facts_batch_size:count');
  return {
    appends,
    meanAppendMs: count > 0 ? Math.round((seconds / count) * 1e5) / 100 : null,
    meanFactsBatch: batches > 0 ? Math.round((delta('datarun_lookup_facts_batch_size:sum') / batches) * 10) / 10 : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Audited phases: lookups, verifications, evidence bundles

export interface AuditCheck {
  /** Requests the load generator wrote (warm-up and measured run). */
  readonly requests: number;
  /** Audit rows each request must add. */
  readonly rowsPerRequest: number;
  /** Rows of audit_event added during the phase. */
  readonly rows: number;
  /** Of those, rows whose decision is not `allowed`, or whose action is not the phase's. */
  readonly unexpectedRows: number;
  readonly exact: boolean;
}

export interface AuditedPhaseResult {
  readonly name: string;
  readonly connections: number;
  readonly warm: RunFigures | null;
  readonly measured: RunFigures;
  /** Non-2xx answers, connection errors and timeouts over warm-up and measured run. */
  readonly failures: number;
  readonly audit: AuditCheck;
}

export interface AuditedPhaseOptions extends LoadOptions {
  readonly gatewayUrl: string;
  readonly token: string;
  readonly cases: readonly CaseRef[];
  readonly db: BenchDb;
  readonly hooks?: MeasureHooks;
}

const AUDITED = {
  lookups: { path: '/v1/lookups', action: 'lookup', rowsPerRequest: 1, bodies: lookupBodies },
  verifications: { path: '/v1/verifications', action: 'verify', rowsPerRequest: 1, bodies: verificationBodies },
  'evidence-bundles': { path: '/v1/evidence-bundles', action: 'bundle-item', rowsPerRequest: 3, bodies: bundleBodies },
} as const;
export type AuditedPhase = keyof typeof AUDITED;

async function lastAuditSeq(db: BenchDb): Promise<number> {
  const { rows } = await db.query('SELECT coalesce(max(seq), 0)::bigint AS seq FROM audit_event');
  return Number(rows[0].seq);
}

/** Rows after `seq`, once the count has stopped moving (requests cut off at the end still finish). */
async function auditRowsSince(db: BenchDb, seq: number, action: string): Promise<{ rows: number; unexpected: number }> {
  const count = async () => {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE decision <> 'allowed' OR action <> $2)::int AS bad FROM audit_event WHERE seq > $1`,
      [seq, action],
    );
    return { rows: Number(rows[0].n), unexpected: Number(rows[0].bad) };
  };
  let last = await count();
  for (let i = 0; i < 50; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const now = await count();
    if (now.rows === last.rows) return now;
    last = now;
  }
  return last;
}

/** One audited phase: load from a separate process, then audit rows added = rows per request × requests. */
export async function auditedPhase(phase: AuditedPhase, o: AuditedPhaseOptions): Promise<AuditedPhaseResult> {
  const p = AUDITED[phase];
  const before = await lastAuditSeq(o.db);
  const { warm, measured } = await httpLoad(
    {
      url: o.gatewayUrl,
      method: 'POST',
      path: p.path,
      token: o.token,
      bodies: p.bodies(o.cases),
      connections: o.connections,
      warmupSeconds: o.warmupSeconds,
      durationSeconds: o.durationSeconds,
    },
    o.hooks,
  );
  const audit = await auditRowsSince(o.db, before, p.action);
  const requests = (warm?.sent ?? 0) + (measured.sent ?? 0);
  const failures = [warm, measured].reduce((n, r) => n + (r ? (r.non2xx ?? 0) + r.errors + (r.timeouts ?? 0) : 0), 0);
  return {
    name: phase,
    connections: o.connections,
    warm,
    measured,
    failures,
    audit: {
      requests,
      rowsPerRequest: p.rowsPerRequest,
      rows: audit.rows,
      unexpectedRows: audit.unexpected,
      exact: audit.rows === requests * p.rowsPerRequest && audit.unexpected === 0,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Baselines

export interface BaselineResult {
  readonly name: string;
  readonly connections: number;
  readonly measured: RunFigures;
}

/** The plain primary-key select of the same records through `pg`, from a Node child process. */
export async function pgSelectBaseline(
  o: LoadOptions & { connectionString: string; schema: string; keys: readonly string[]; hooks?: MeasureHooks },
): Promise<BaselineResult> {
  const done = await runChild(
    'pg-select.mjs',
    {
      connectionString: o.connectionString,
      schema: o.schema,
      keys: o.keys,
      connections: o.connections,
      warmupSeconds: o.warmupSeconds,
      durationSeconds: o.durationSeconds,
    },
    o.hooks,
  );
  return { name: 'pg-select', connections: o.connections, measured: done.measured as RunFigures };
}

/** A bare Fastify route (JSON body parsed, constant answer) in one child, loaded by autocannon from another. */
export async function bareHttpBaseline(o: LoadOptions & { bodies: readonly string[]; hooks?: MeasureHooks }): Promise<BaselineResult & { serverPid: number }> {
  const server: ChildProcess = fork(resolve(CHILDREN, 'bare-http.mjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  try {
    const port = await new Promise<number>((res, rej) => {
      server.once('message', (m: ChildMessage) => (m.type === 'listening' ? res(Number(m.port)) : rej(new Error('bare-http did not listen'))));
      server.once('exit', (code) => rej(new Error(`bare-http exited (code ${code})`)));
    });
    const { measured } = await httpLoad(
      {
        url: `http://127.0.0.1:${port}`,
        method: 'POST',
        path: '/v1/lookups',
        bodies: o.bodies,
        connections: o.connections,
        warmupSeconds: o.warmupSeconds,
        durationSeconds: o.durationSeconds,
      },
      o.hooks,
    );
    return { name: 'bare-node-http', connections: o.connections, measured, serverPid: server.pid! };
  } finally {
    server.kill('SIGTERM');
  }
}

const execFileP = promisify(execFile);

/** pgbench's output: transactions per second (without connection time) and average latency. */
export function parsePgbench(output: string): { tps: number; latencyMs: number | null; failed: number } {
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
  if (!tps) throw new Error(`pgbench output has no tps line: ${output.slice(-400)}`);
  const latency = /latency average = ([\d.]+) ms/.exec(output);
  const failed = /number of failed transactions: (\d+)/.exec(output);
  return { tps: Number(tps[1]), latencyMs: latency ? Number(latency[1]) : null, failed: failed ? Number(failed[1]) : 0 };
}

/** `pgbench -i -s <scale>` once (when pgbench_accounts is missing). */
export async function pgbenchInit(ownerUrl: string, db: BenchDb, scale = 10): Promise<boolean> {
  const { rows } = await db.query(`SELECT to_regclass('public.pgbench_accounts') IS NOT NULL AS present`);
  if (rows[0].present) return false;
  await execFileP('pgbench', ['-i', '-q', '-s', String(scale), ownerUrl], { maxBuffer: 16 << 20 });
  return true;
}

/** `pgbench -S -M prepared` (select-only, TPC-B accounts, prepared statements like the gateway's) at the concurrency, after a short warm-up run. */
export async function pgbenchBaseline(
  o: LoadOptions & { ownerUrl: string },
): Promise<{ name: string; connections: number; tps: number; latencyMs: number | null; failed: number }> {
  const run = async (seconds: number) => {
    const { stdout, stderr } = await execFileP(
      'pgbench',
      ['-n', '-S', '-M', 'prepared', '-c', String(o.connections), '-j', '2', '-T', String(seconds), o.ownerUrl],
      {
        maxBuffer: 16 << 20,
      },
    );
    return parsePgbench(`${stdout}\n${stderr}`);
  };
  if (o.warmupSeconds > 0) await run(Math.max(1, Math.round(o.warmupSeconds)));
  return { name: 'pgbench-S', connections: o.connections, ...(await run(Math.round(o.durationSeconds))) };
}

// ---------------------------------------------------------------------------------------------
// Footprint: CPU per process group, peak RSS

export type CpuSample = Map<number, { comm: string; ticks: number; start: string }>;

/** utime + stime of every process, in clock ticks (USER_HZ, 100 on Linux). */
export function cpuSample(): CpuSample {
  const sample: CpuSample = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      sample.set(Number(entry), { comm, ticks: Number(fields[11]) + Number(fields[12]), start: fields[19] });
    } catch {
      // gone in between
    }
  }
  return sample;
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3] - cpu[4], total };
}

/**
 * CPU seconds between two samples, grouped: named pids first (gateway, load generator, or
 * PostgreSQL backends by database), then by command name (node, postgres, java), the rest as
 * `other`. A process born in between (new pid, or the same pid with another start time) counts from 0.
 */
export function cpuSplit(
  before: CpuSample,
  after: CpuSample,
  named: Record<string, number | undefined>,
  namedMany: Record<number, string> = {},
): Record<string, number> {
  const byPid = new Map<number, string>(
    Object.entries(named)
      .filter(([, pid]) => pid)
      .map(([label, pid]) => [pid!, label]),
  );
  for (const [pid, label] of Object.entries(namedMany)) if (!byPid.has(Number(pid))) byPid.set(Number(pid), label);
  const out: Record<string, number> = {};
  for (const [pid, a] of after) {
    const b = before.get(pid);
    const delta = a.ticks - (b && b.start === a.start ? b.ticks : 0);
    if (delta <= 0) continue;
    const group =
      byPid.get(pid) ??
      (a.comm === 'node' || a.comm.startsWith('node')
        ? 'node (other)'
        : a.comm === 'postgres'
          ? 'postgres (other)'
          : a.comm === 'java'
            ? 'kafka (java)'
            : 'other');
    out[group] = (out[group] ?? 0) + delta / 100;
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Math.round(v * 100) / 100]));
}

/** VmHWM (peak RSS) and VmRSS of a process, in MiB. */
export function memoryOf(pid: number): { peakRssMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakRssMiB: Math.round(kb('VmHWM') / 102.4) / 10, rssMiB: Math.round(kb('VmRSS') / 102.4) / 10 };
}

/** Resets a process's VmHWM to its current RSS (Linux clear_refs 5); false when not allowed. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The pid listening on a local TCP port (from `ss -ltnp`), when visible. */
export async function pidListeningOn(port: number): Promise<number | undefined> {
  try {
    const { stdout } = await execFileP('ss', ['-Hltnp', `sport = :${port}`]);
    const m = /pid=(\d+)/.exec(stdout);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Transfers: propagation and relay drain

export const UTILITY_KINDS = ['water', 'electricity', 'gas'] as const;

export interface TransferCaseRef {
  readonly caseId: string;
  readonly accounts: Readonly<Record<(typeof UTILITY_KINDS)[number], string>>;
}

const certificate = (label: string) => Buffer.from(`%PDF-1.7\n% 不动产权证书 ${label}\n%%EOF\n`);

/**
 * Opens property-transfer cases ready to complete: seller and buyer from `people` (in pairs), a
 * property unit and three utility accounts unique to `tag` and the case, the certificate uploaded.
 */
export async function openTransferCases(
  gatewayUrl: string,
  token: string,
  people: readonly PersonSummary[],
  count: number,
  tag: string,
  parallel = 8,
): Promise<TransferCaseRef[]> {
  if (people.length < 2) throw new Error('transfer cases need at least two people');
  const cases: TransferCaseRef[] = new Array(count);
  let next = 0;
  const call = async (method: string, path: string, body: Buffer | string, contentType: string, expected: number) => {
    const res = await fetch(`${gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as { id: string };
  };
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) {
        const i = next++;
        const [seller, buyer] = [people[(2 * i) % people.length], people[(2 * i + 1) % people.length]];
        const label = `${tag}-${i}`;
        const pdf = certificate(label);
        const accounts = { water: `W-${label}`, electricity: `E-${label}`, gas: `G-${label}` };
        const opened = await call(
          'POST',
          '/v1/cases',
          JSON.stringify({
            matter: MATTER,
            parties: [
              { idNumber: seller.idNumber, name: seller.name, role: 'seller' },
              { idNumber: buyer.idNumber, name: buyer.name, role: 'buyer' },
            ],
            property: { unitNumber: `BENCH-${label}`, address: `演示市基准路 ${i} 号` },
            utilityAccounts: accounts,
            materials: [{ type: 'property-certificate', sha256: createHash('sha256').update(pdf).digest('hex') }],
          }),
          'application/json',
          201,
        );
        await call('PUT', `/v1/cases/${opened.id}/materials/property-certificate`, pdf, 'application/pdf', 200);
        cases[i] = { caseId: opened.id, accounts };
      }
    }),
  );
  return cases;
}

export interface Spread {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function spreadOf(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : NaN);
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1] : NaN };
}

export interface PropagationResult {
  readonly ratePerSecond: number;
  readonly cases: number;
  /** From the completion call to each utility system applying its transfer (ms). */
  readonly toUtilityMs: Spread;
  /** From the completion call to the case showing all three completed (ms). */
  readonly toCaseMs: Spread;
  /** Requests not completed when the phase gave up waiting. */
  readonly unfinished: number;
  readonly completionCallMs: Spread;
}

/**
 * Completes `cases` at a steady rate (one call every 1000/rate ms, not waiting for the previous
 * answer), then reads when each utility system applied its request (the sandbox's clock) and
 * when each case had all three completed (the status time in the database): both against the
 * time the completion call was sent. Same machine, same clock.
 */
export async function propagationPhase(o: {
  gatewayUrl: string;
  token: string;
  sandboxUrl: string;
  db: BenchDb;
  cases: readonly TransferCaseRef[];
  ratePerSecond: number;
  timeoutSeconds?: number;
}): Promise<PropagationResult> {
  const sentAt = new Map<string, number>();
  const callMs: number[] = [];
  const calls: Array<Promise<void>> = [];
  const interval = 1000 / o.ratePerSecond;
  const start = performance.now();
  for (let i = 0; i < o.cases.length; i += 1) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const c = o.cases[i];
    const t0 = Date.now();
    sentAt.set(c.caseId, t0);
    calls.push(
      fetch(`${o.gatewayUrl}/v1/cases/${c.caseId}/complete`, { method: 'POST', headers: { authorization: `Bearer ${o.token}` } }).then(async (res) => {
        callMs.push(Date.now() - t0);
        if (res.status !== 200) throw new Error(`POST /v1/cases/${c.caseId}/complete answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
      }),
    );
  }
  await Promise.all(calls);
  const ids = o.cases.map((c) => c.caseId);
  const expected = ids.length * UTILITY_KINDS.length;
  const deadline = Date.now() + (o.timeoutSeconds ?? 60) * 1000;
  let done = 0;
  while (Date.now() < deadline) {
    const { rows } = await o.db.query(`SELECT count(*)::int AS n FROM transfer_request WHERE case_id = ANY($1::uuid[]) AND state = 'completed'`, [ids]);
    done = Number(rows[0].n);
    if (done === expected) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const toUtility: number[] = [];
  for (const kind of UTILITY_KINDS) {
    const res = await fetch(`${o.sandboxUrl}/v1/utilities/${kind}/requests`);
    const { requests } = (await res.json()) as { requests: Array<{ accountNumber: string; appliedAt: string }> };
    const byAccount = new Map(requests.map((r) => [r.accountNumber, Date.parse(r.appliedAt)]));
    for (const c of o.cases) {
      const at = byAccount.get(c.accounts[kind]);
      if (at !== undefined) toUtility.push(at - sentAt.get(c.caseId)!);
    }
  }
  const { rows } = await o.db.query(
    `SELECT case_id::text AS id, (extract(epoch FROM max(updated_at)) * 1000)::float8 AS at FROM transfer_request WHERE case_id = ANY($1::uuid[]) GROUP BY case_id HAVING bool_and(state = 'completed')`,
    [ids],
  );
  const toCase = rows.map((r) => Number(r.at) - sentAt.get(String(r.id))!);
  return {
    ratePerSecond: o.ratePerSecond,
    cases: o.cases.length,
    toUtilityMs: spreadOf(toUtility),
    toCaseMs: spreadOf(toCase),
    unfinished: expected - done,
    completionCallMs: spreadOf(callMs),
  };
}

export interface DrainResult {
  readonly rows: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Rows still pending when the phase gave up waiting (0 when drained). */
  readonly left: number;
}

/** The utility kind of the drain backlog: no connector consumes its topic, so only the relay works. */
export const DRAIN_UTILITY = 'bench-drain';

/**
 * Puts `rows` pending requests into the outbox in one transaction (the relay sees them all at
 * once), then times the relay publishing them: from that commit to the outbox holding none of
 * them, polling every 50 ms. The requests are valid transfer requests for DRAIN_UTILITY, each for
 * a synthetic completed case of `consumerId` so the foreign keys hold.
 */
export async function relayDrainPhase(o: { db: BenchDb; rows: number; consumerId: string; timeoutSeconds?: number }): Promise<DrainResult> {
  const tag = Date.now().toString(36);
  const topic = `datarun.utility.${DRAIN_UTILITY}.transfer-requested.v1`;
  await o.db.query(
    `WITH cases AS (
       INSERT INTO service_case (id, consumer_id, matter_code, state, parties, property, utility_accounts, materials, opened_by, closed_at)
       SELECT gen_random_uuid(), $1, $2, 'completed', '[]'::jsonb, jsonb_build_object('unitNumber', 'DRAIN-' || $3 || '-' || g, 'address', '演示市'),
              jsonb_build_object($4::text, 'D-' || $3 || '-' || g), '[]'::jsonb, 'bench', now()
       FROM generate_series(1, $5::int) AS g
       RETURNING id, property->>'unitNumber' AS unit, utility_accounts->>$4::text AS account),
     requests AS (SELECT gen_random_uuid() AS request_id, id, unit, account FROM cases)
     INSERT INTO transfer_request (request_id, case_id, utility, request_kind, topic, message_key, payload)
     SELECT request_id, id, $4, 'transfer', $6, unit,
            jsonb_build_object('requestId', request_id, 'caseId', id, 'utility', $4::text, 'request', 'transfer', 'accountNumber', account,
                               'property', jsonb_build_object('unitNumber', unit, 'address', '演示市'),
                               'newHolder', jsonb_build_object('name', '基准', 'idNumberMasked', '330100********0000'),
                               'effectiveDate', to_char(now(), 'YYYY-MM-DD'), 'materials', '[]'::jsonb)
     FROM requests`,
    [o.consumerId, MATTER, tag, DRAIN_UTILITY, o.rows, topic],
  );
  const t0 = performance.now();
  const deadline = Date.now() + (o.timeoutSeconds ?? 120) * 1000;
  let left = o.rows;
  while (Date.now() < deadline) {
    const { rows } = await o.db.query(`SELECT count(*)::int AS n FROM transfer_request WHERE utility = $1 AND state = 'pending'`, [DRAIN_UTILITY]);
    left = Number(rows[0].n);
    if (left === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - t0) / 1000;
  return { rows: o.rows, seconds: Math.round(seconds * 100) / 100, eventsPerSecond: Math.round((o.rows - left) / seconds), left };
}
