// The committed form of a benchmark run: `npm run bench -- --record` writes it to
// docs/performance/results.json, and `npm run generate` renders docs/performance.md from it. Only the
// figures the documentation shows, with the machine, the versions, the parameters and the load
// conditions they were measured under; the full run stays in test/bench/results/ (git-ignored).

/** The path of the committed results, relative to the repository root. */
export const RECORDED_RESULTS_PATH = 'docs/performance/results.json';

/** The file's text as `prettier --write` leaves it (the tree is checked with Prettier). */
export async function recordedResultsText(results: RecordedResults): Promise<string> {
  const { format, resolveConfig } = await import('prettier');
  return format(JSON.stringify(results), { ...((await resolveConfig(RECORDED_RESULTS_PATH)) ?? {}), parser: 'json' });
}

/** A lookup's rate over each baseline's, measured in the same run at the same concurrency. */
export interface Ratios {
  readonly lookupOverPgSelect: number | null;
  readonly lookupOverBareHttp: number | null;
  readonly lookupOverPgbench?: number | null;
}

export interface TargetFigure {
  /** Stable id, e.g. `lookups.rps`. */
  readonly id: string;
  readonly figure: string;
  /** The target as the issue states it, e.g. `≥ 5,000 requests/s`. */
  readonly target: string;
  /** The headline number compared with the target (null when the phase did not run). */
  readonly measured: number | null;
  readonly unit: string;
  /** Context shown beside the number (other percentiles, counts). */
  readonly detail: string;
  /** Whether the target was met; null when nothing was measured. */
  readonly met: boolean | null;
  /** A lower floor that counts as acceptable (the audit verification's 200,000 records/s). */
  readonly floorMet?: boolean | null;
}

export interface PhaseFigure {
  readonly phase: string;
  readonly concurrency: number | null;
  /** Requests (or events, records) a second. */
  readonly perSecond: number;
  readonly unit: string;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly errors: number | null;
}

export interface RecordedResults {
  readonly recordedBy: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { readonly cores: number; readonly model: string; readonly memoryGiB: number; readonly kernel: string };
  readonly versions: { readonly node: string; readonly postgres: string; readonly kafka: string };
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly conditions: {
    /** 1, 5 and 15 minute load averages when the run started and when it ended. */
    readonly loadAverageAtStart: readonly number[];
    readonly loadAverageAtEnd: readonly number[];
    /** Whether the synthetic population was already loaded (and reused). */
    readonly populationReused: boolean | null;
    /** The machine's busy share and the CPU by process group during the lookups at the highest concurrency. */
    readonly lookupsCpu: { readonly machineBusyPercent: number; readonly cores: Readonly<Record<string, number>> } | null;
    /** What the operator wrote with `--note` (other work on the machine, reduced settings). */
    readonly note: string;
  };
  readonly targets: readonly TargetFigure[];
  readonly phases: readonly PhaseFigure[];
  readonly ratios: Readonly<Record<string, Ratios>>;
  readonly errors: readonly string[];
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly p99_9: number;
}
interface Figures {
  readonly requestsPerSecond: number;
  readonly latencyMs: Latency;
  readonly errors: number;
  readonly non2xx?: number;
}
interface Audited {
  readonly connections: number;
  readonly measured: Figures;
  readonly failures: number;
  readonly audit: { readonly rows: number; readonly requests: number; readonly exact: boolean };
}
interface Baseline {
  readonly connections: number;
  readonly measured: Figures;
}
interface AuditFigures {
  readonly verifyPerSecond: number;
  readonly appendPerSecond: number;
  readonly verifySeconds: number;
  readonly report: { readonly checked: number; readonly ok: boolean };
}
interface Spread {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
}

/** What test/bench/bench.ts writes to test/bench/results/<time>.json (the parts used here). */
export interface BenchRun {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { readonly cores: number; readonly model?: string; readonly memoryGiB: number; readonly kernel: string };
  readonly versions: { readonly node: string; readonly postgres: string; readonly kafka: string };
  readonly parameters: Readonly<Record<string, unknown>> & { readonly concurrencies: readonly number[] };
  readonly setup: { readonly population?: { readonly reused?: boolean } };
  readonly phases: {
    readonly lookups: readonly Audited[];
    readonly pgSelect: readonly Baseline[];
    readonly pgbench: ReadonlyArray<Record<string, unknown>>;
    readonly bareHttp: readonly Baseline[];
    readonly verifications?: Audited;
    readonly bundles?: Audited;
  };
  readonly ratios: Readonly<Record<string, Ratios>>;
  readonly propagation: {
    readonly cases: number;
    readonly ratePerSecond: number;
    readonly toUtilityMs: Spread;
    readonly toCaseMs: Spread;
    readonly unfinished: number;
  } | null;
  readonly relayDrain: { readonly rows: number; readonly seconds: number; readonly eventsPerSecond: number; readonly left: number } | null;
  /** The audit phase: its figures, or `{error}` / `{skipped: true}`. */
  readonly audit?: AuditFigures | { readonly error: string } | { readonly skipped: true } | null;
  readonly footprint: Readonly<Record<string, unknown>>;
  readonly errors: readonly string[];
  readonly conditions?: { readonly loadAverageAtStart: readonly number[]; readonly loadAverageAtEnd: readonly number[] };
}

const n = (value: number, digits = 0) => value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const round = (value: number, digits = 0) => Math.round(value * 10 ** digits) / 10 ** digits;

/** A target's measured value as every report shows it (docs/performance.md, the bench's own table). */
export function targetMeasured(t: TargetFigure): string {
  if (t.measured === null) return 'not measured';
  const digits = t.unit === '' && !Number.isInteger(t.measured) ? 3 : 0;
  const value = `${n(t.measured, digits)}${t.unit && t.unit !== 'rows' ? ` ${t.unit}` : ''}`;
  return t.detail ? `${value} (${t.detail})` : value;
}

/** Whether a target was met, as every report says it. */
export function targetVerdict(t: TargetFigure): string {
  if (t.met === null) return '—';
  if (t.met) return 'met';
  return t.floorMet ? 'floor met, target **missed**' : '**missed**';
}

/** The committed summary of one run. Pure: the same run gives the same file. */
export function recordedResultsOf(run: BenchRun, note = ''): RecordedResults {
  const lookups = run.phases.lookups;
  const top = lookups.reduce<Audited | undefined>((best, p) => (!best || p.connections > best.connections ? p : best), undefined);
  const ratio = top ? run.ratios[`c=${top.connections}`] : undefined;
  const audit = run.audit && 'verifyPerSecond' in run.audit ? run.audit : undefined;
  const prop = run.propagation;
  const drain = run.relayDrain;
  const measuredOrNull = <T>(value: T | null | undefined, f: (v: T) => number) => (value === undefined || value === null ? null : f(value));

  /** A ratio at the highest concurrency, with the others as detail. */
  const ratioTarget = (id: string, over: string, floor: number, of: (r: Ratios) => number | null): TargetFigure => {
    const measured = ratio ? of(ratio) : null;
    return {
      id,
      figure: `${over}, same run, concurrency ${top?.connections ?? 64}`,
      target: `≥ ${floor.toFixed(2)}`,
      measured,
      unit: '',
      detail: Object.entries(run.ratios)
        .filter(([c]) => c !== `c=${top?.connections}`)
        .map(([c, r]) => `${of(r) ?? '—'} at concurrency ${c.replace('c=', '')}`)
        .join(', '),
      met: measured === null ? null : measured >= floor,
    };
  };
  const targets: TargetFigure[] = [
    {
      id: 'lookups.rps',
      figure: `audited lookups, concurrency ${top?.connections ?? 64}`,
      target: '≥ 5,000 requests/s',
      measured: measuredOrNull(top, (t) => round(t.measured.requestsPerSecond)),
      unit: 'requests/s',
      detail: '',
      met: top ? top.measured.requestsPerSecond >= 5000 : null,
    },
    {
      id: 'lookups.p99',
      figure: `audited lookups, concurrency ${top?.connections ?? 64}: p99`,
      target: '≤ 20 ms',
      measured: measuredOrNull(top, (t) => t.measured.latencyMs.p99),
      unit: 'ms',
      detail: top ? `p50 ${n(top.measured.latencyMs.p50)}, p99.9 ${n(top.measured.latencyMs.p99_9)}` : '',
      met: top ? top.measured.latencyMs.p99 <= 20 : null,
    },
    {
      id: 'lookups.errors',
      figure: 'audited lookups: errors',
      target: '0',
      measured: lookups.length ? lookups.reduce((sum, p) => sum + p.failures, 0) : null,
      unit: '',
      detail: lookups.length ? `concurrency ${lookups.map((p) => p.connections).join(' and ')}` : '',
      met: lookups.length ? lookups.every((p) => p.failures === 0) : null,
    },
    {
      id: 'lookups.audit',
      figure: 'audit rows = requests',
      target: 'exactly one each',
      measured: lookups.length ? lookups.reduce((sum, p) => sum + p.audit.rows, 0) : null,
      unit: 'rows',
      detail: lookups.map((p) => `${n(p.audit.rows)} / ${n(p.audit.requests)}`).join(' and '),
      met: lookups.length ? lookups.every((p) => p.audit.exact) : null,
    },
    ratioTarget('lookups.ratio.http', 'lookup ÷ bare `node:http`', 0.1, (r) => r.lookupOverBareHttp),
    ratioTarget('lookups.ratio.pgbench', 'lookup ÷ `pgbench -S -M prepared`', 0.15, (r) => r.lookupOverPgbench ?? null),
    {
      id: 'propagation.p99',
      figure: 'completion → all three utilities applied, case 3 of 3',
      target: 'p99 ≤ 200 ms',
      measured: measuredOrNull(prop, (p) => p.toCaseMs.p99),
      unit: 'ms',
      detail: prop
        ? `p50 ${n(prop.toCaseMs.p50)}; each utility applied p50 ${n(prop.toUtilityMs.p50)}, p99 ${n(prop.toUtilityMs.p99)}; ${prop.cases} cases at ${prop.ratePerSecond}/s${prop.unfinished ? `; ${prop.unfinished} unfinished` : ''}`
        : '',
      met: prop ? prop.unfinished === 0 && prop.toCaseMs.p99 <= 200 : null,
    },
    {
      id: 'relay.drain',
      figure: `relay drain, ${drain ? n(drain.rows) : '50,000'} outbox rows`,
      target: '≥ 20,000 events/s (floor 6,000)',
      measured: measuredOrNull(drain, (d) => round(d.eventsPerSecond)),
      unit: 'events/s',
      detail: drain ? `${n(drain.seconds, 1)} s${drain.left ? `; ${drain.left} left` : ''}` : '',
      met: drain ? drain.left === 0 && drain.eventsPerSecond >= 20_000 : null,
      floorMet: drain ? drain.left === 0 && drain.eventsPerSecond >= 6000 : null,
    },
    {
      id: 'audit.verify',
      figure: `audit verification, ${audit ? n(audit.report.checked) : n(Number(run.parameters.auditRecords ?? 1_000_000))} records`,
      target: '≥ 500,000 records/s (floor 200,000)',
      measured: measuredOrNull(audit, (a) => round(a.verifyPerSecond)),
      unit: 'records/s',
      detail: audit ? `${n(audit.verifySeconds, 1)} s${!audit.report.ok ? '; the report was not ok' : ''}` : '',
      met: audit ? audit.verifyPerSecond >= 500_000 : null,
      floorMet: audit ? audit.verifyPerSecond >= 200_000 : null,
    },
  ];

  const http = (phase: string, p: Audited | Baseline, errors: number): PhaseFigure => ({
    phase,
    concurrency: p.connections,
    perSecond: round(p.measured.requestsPerSecond),
    unit: 'requests/s',
    p50Ms: p.measured.latencyMs.p50,
    p99Ms: p.measured.latencyMs.p99,
    p999Ms: p.measured.latencyMs.p99_9,
    errors,
  });
  const phases: PhaseFigure[] = [
    ...lookups.map((p) => http('`POST /v1/lookups` (household)', p, p.failures)),
    ...run.phases.pgSelect.map((p) => http('primary-key select through `pg` (Node child)', p, p.measured.errors)),
    ...run.phases.pgbench.map((p) => ({
      phase: '`pgbench -S -M prepared -j 2` (TPS, scale 10)',
      concurrency: Number(p.connections),
      perSecond: round(Number(p.tps)),
      unit: 'transactions/s',
      p50Ms: null,
      p99Ms: null,
      p999Ms: null,
      errors: Number(p.failed ?? 0),
    })),
    ...run.phases.bareHttp.map((p) => http('bare `node:http` server (JSON body parsed, constant answer)', p, (p.measured.non2xx ?? 0) + p.measured.errors)),
    ...(run.phases.verifications
      ? [http('`POST /v1/verifications` (`maritalStatus: married`)', run.phases.verifications, run.phases.verifications.failures)]
      : []),
    ...(run.phases.bundles ? [http('`POST /v1/evidence-bundles` (3 items each)', run.phases.bundles, run.phases.bundles.failures)] : []),
    ...(audit
      ? [
          {
            phase: 'audit append, isolated (group commit, 2,000 in flight)',
            concurrency: null,
            perSecond: round(audit.appendPerSecond),
            unit: 'events/s',
            p50Ms: null,
            p99Ms: null,
            p999Ms: null,
            errors: null,
          },
          {
            phase: `audit verification, ${n(audit.report.checked)} records`,
            concurrency: null,
            perSecond: round(audit.verifyPerSecond),
            unit: 'records/s',
            p50Ms: null,
            p99Ms: null,
            p999Ms: null,
            errors: null,
          },
        ]
      : []),
  ];

  const cpu = top
    ? (run.footprint[`lookups c=${top.connections}`] as { wallSeconds: number; cpuSeconds: Record<string, number>; machineBusyPercent: number } | undefined)
    : undefined;
  return {
    recordedBy: 'npm run bench -- --record',
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    machine: { cores: run.machine.cores, model: run.machine.model ?? 'unknown', memoryGiB: run.machine.memoryGiB, kernel: run.machine.kernel },
    versions: run.versions,
    parameters: run.parameters,
    conditions: {
      loadAverageAtStart: run.conditions?.loadAverageAtStart ?? [],
      loadAverageAtEnd: run.conditions?.loadAverageAtEnd ?? [],
      populationReused: run.setup.population?.reused ?? null,
      lookupsCpu: cpu
        ? {
            machineBusyPercent: cpu.machineBusyPercent,
            cores: Object.fromEntries(
              Object.entries(cpu.cpuSeconds)
                .sort((a, b) => b[1] - a[1])
                .map(([group, seconds]) => [group, round(seconds / cpu.wallSeconds, 2)]),
            ),
          }
        : null,
      note,
    },
    targets,
    phases,
    ratios: run.ratios,
    errors: run.errors,
  };
}
