// The benchmark's phases as functions of base URLs, tokens and database handles, so that
// `npm run bench` (test/bench/bench.ts) and the smoke inside `npm test` (test/e2e/bench-smoke.e2e.ts)
// run the same code. Load always comes from a separate process (test/bench/children/*.mjs).
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { generatePopulation, type PersonSummary } from '../fixtures/population.js';

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
  cases.map((c) => JSON.stringify({ source: 'marriage', subject: { idNumber: c.idNumber }, purpose: MATTER, caseId: c.caseId, claims: { maritalStatus: 'married' } }));
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
    { url: spec.url, method: spec.method, path: spec.path, headers, bodies: spec.bodies ?? [], connections: spec.connections, warmupSeconds: spec.warmupSeconds, durationSeconds: spec.durationSeconds },
    hooks,
  );
  return { warm: done.warm as RunFigures | null, measured: done.measured as RunFigures };
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
    { url: o.gatewayUrl, method: 'POST', path: p.path, token: o.token, bodies: p.bodies(o.cases), connections: o.connections, warmupSeconds: o.warmupSeconds, durationSeconds: o.durationSeconds },
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
    audit: { requests, rowsPerRequest: p.rowsPerRequest, rows: audit.rows, unexpectedRows: audit.unexpected, exact: audit.rows === requests * p.rowsPerRequest && audit.unexpected === 0 },
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
export async function pgSelectBaseline(o: LoadOptions & { connectionString: string; schema: string; keys: readonly string[]; hooks?: MeasureHooks }): Promise<BaselineResult> {
  const done = await runChild(
    'pg-select.mjs',
    { connectionString: o.connectionString, schema: o.schema, keys: o.keys, connections: o.connections, warmupSeconds: o.warmupSeconds, durationSeconds: o.durationSeconds },
    o.hooks,
  );
  return { name: 'pg-select', connections: o.connections, measured: done.measured as RunFigures };
}

/** A bare Fastify route (JSON body parsed, constant answer) in one child, loaded by autocannon from another. */
export async function bareHttpBaseline(o: LoadOptions & { bodies: readonly string[]; hooks?: MeasureHooks }): Promise<BaselineResult & { serverPid: number }> {
  const server: ChildProcess = fork(resolve(CHILDREN, 'bare-http.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [], env: { ...process.env, NODE_OPTIONS: '' } });
  try {
    const port = await new Promise<number>((res, rej) => {
      server.once('message', (m: ChildMessage) => (m.type === 'listening' ? res(Number(m.port)) : rej(new Error('bare-http did not listen'))));
      server.once('exit', (code) => rej(new Error(`bare-http exited (code ${code})`)));
    });
    const { measured } = await httpLoad({ url: `http://127.0.0.1:${port}`, method: 'POST', path: '/v1/lookups', bodies: o.bodies, connections: o.connections, warmupSeconds: o.warmupSeconds, durationSeconds: o.durationSeconds }, o.hooks);
    return { name: 'bare-fastify', connections: o.connections, measured, serverPid: server.pid! };
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

/** `pgbench -S` (select-only, TPC-B accounts) at the concurrency, after a short warm-up run. */
export async function pgbenchBaseline(o: LoadOptions & { ownerUrl: string }): Promise<{ name: string; connections: number; tps: number; latencyMs: number | null; failed: number }> {
  const run = async (seconds: number) => {
    const { stdout, stderr } = await execFileP('pgbench', ['-n', '-S', '-c', String(o.connections), '-j', '2', '-T', String(seconds), o.ownerUrl], { maxBuffer: 16 << 20 });
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
export function cpuSplit(before: CpuSample, after: CpuSample, named: Record<string, number | undefined>, namedMany: Record<number, string> = {}): Record<string, number> {
  const byPid = new Map<number, string>(Object.entries(named).filter(([, pid]) => pid).map(([label, pid]) => [pid!, label]));
  for (const [pid, label] of Object.entries(namedMany)) if (!byPid.has(Number(pid))) byPid.set(Number(pid), label);
  const out: Record<string, number> = {};
  for (const [pid, a] of after) {
    const b = before.get(pid);
    const delta = a.ticks - (b && b.start === a.start ? b.ticks : 0);
    if (delta <= 0) continue;
    const group = byPid.get(pid) ?? (a.comm === 'node' || a.comm.startsWith('node') ? 'node (other)' : a.comm === 'postgres' ? 'postgres (other)' : a.comm === 'java' ? 'kafka (java)' : 'other');
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
