// docs/performance.md's tables, from the committed figures of the latest recorded benchmark run
// (docs/performance/results.json, written by `npm run bench -- --record`).
import { type RecordedResults, targetMeasured as measured, targetVerdict as verdict } from '../../test/bench/record.js';
import { cell, table } from './markdown.js';

export { RECORDED_RESULTS_PATH } from '../../test/bench/record.js';

const number = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value)
    ? '—'
    : value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The conditions of the run, the targets and every phase, as Markdown. */
export function performanceReport(results: RecordedResults): string {
  const p = results.parameters;
  const c = results.conditions;
  const started = results.startedAt.replace('T', ' ').slice(0, 16);
  const minutes = Math.round((Date.parse(results.finishedAt) - Date.parse(results.startedAt)) / 60_000);
  const load = (l: readonly number[]) => (l.length ? l.join(' / ') : 'not recorded');
  const lines = [
    `Latest recorded run: ${started} UTC, ${minutes} minutes end to end (\`${results.recordedBy}\`).`,
    '',
    `- Machine: ${results.machine.cores} cores (${results.machine.model}), ${number(results.machine.memoryGiB, 1)} GiB, Linux ${results.machine.kernel}; the load generator, every datarun process, PostgreSQL and Kafka on the same machine.`,
    `- Versions: Node ${results.versions.node}, PostgreSQL ${results.versions.postgres}, Kafka ${results.versions.kafka}.`,
    `- Settings: ${number(Number(p.people))} people${c.populationReused ? ' (population reused from an earlier run)' : ''}, ${number(Number(p.cases))} cases, ${p.warmupSeconds} s warm-up and ${p.durationSeconds} s of load per phase, concurrency ${(p.concurrencies as number[]).join(' and ')}, ${number(Number(p.auditRecords))} audit records${p.skipAudit ? ' (audit phase skipped)' : ''}${p.transfersOnly ? ' (transfer phases only)' : ''}, ${p.transferRate ?? 20} completions/s, ${number(Number(p.drainRows ?? 50_000))} outbox rows drained.`,
    `- Load on the machine: load average (1 / 5 / 15 min) ${load(c.loadAverageAtStart)} at the start, ${load(c.loadAverageAtEnd)} at the end.${
      c.lookupsCpu
        ? ` During the lookups at the highest concurrency the machine was ${c.lookupsCpu.machineBusyPercent}% busy; CPU in cores: ${Object.entries(
            c.lookupsCpu.cores,
          )
            .map(([g, v]) => `${g} ${v}`)
            .join(', ')}.`
        : ''
    }`,
    ...(c.note ? [`- Note: ${c.note}`] : []),
    '',
    table(
      ['figure', 'target', 'measured', 'met?'],
      results.targets.map((t) => [cell(t.figure), cell(t.target), cell(measured(t)), verdict(t)]),
    ),
    '',
    table(
      ['phase', 'concurrency', 'per second', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors'],
      results.phases.map((r) => [
        cell(r.phase),
        cell(r.concurrency),
        `${number(r.perSecond)} ${r.unit}`,
        r.p50Ms === null ? '—' : number(r.p50Ms, r.p50Ms < 10 && !Number.isInteger(r.p50Ms) ? 2 : 0),
        r.p99Ms === null ? '—' : number(r.p99Ms, r.p99Ms < 10 && !Number.isInteger(r.p99Ms) ? 2 : 0),
        r.p999Ms === null ? '—' : number(r.p999Ms, r.p999Ms < 10 && !Number.isInteger(r.p999Ms) ? 2 : 0),
        cell(r.errors),
      ]),
    ),
    '',
    `Ratios: ${Object.entries(results.ratios)
      .map(
        ([conc, r]) =>
          `${conc.replace('c=', 'concurrency ')}: lookup ÷ \`pg\` select ${number(r.lookupOverPgSelect, 3)}, lookup ÷ bare HTTP ${number(r.lookupOverBareHttp, 3)}`,
      )
      .join('; ')}.`,
    ...(results.errors.length ? ['', `Harness failures in this run: ${results.errors.map((e) => cell(e)).join('; ')}.`] : []),
  ];
  return lines.join('\n');
}
