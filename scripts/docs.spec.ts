import { existsSync, readFileSync } from 'node:fs';
import { CONFIG_VARIABLES, type ConfigVariable, DERIVED_DEFAULTS } from '@datarun/config';
import { PROBLEM_CODES } from '@datarun/problems';
import { type BenchRun, type RecordedResults, recordedResultsOf, recordedResultsText } from '../test/bench/record.js';
import { generateDocs, staleDocs } from './docs.js';
import { API_APPS, apiReference, type OpenApiDocument, problemCodesOf, WHO_MAY_CALL } from './docs/api-reference.js';
import { configurationRows } from './docs/configuration.js';
import { endMarker, replaceGenerated, startMarker } from './docs/markdown.js';
import { performanceReport } from './docs/performance.js';

describe('generated documentation', () => {
  it('is committed as npm run generate makes it (otherwise: run npm run generate and commit the result)', async () => {
    expect(await staleDocs()).toEqual([]);
  });

  it('generates exactly the documents it owns', async () => {
    expect((await generateDocs()).map((d) => d.path)).toEqual(['docs/configuration.md', 'docs/api.md', 'docs/api-reference.md', 'docs/performance.md']);
  });
});

describe('configuration table', () => {
  const rows = configurationRows();

  it('has one described row per variable of the schema', () => {
    expect(rows.map((r) => r.name)).toEqual(Object.keys(CONFIG_VARIABLES.shape));
    for (const row of rows) expect(row.description.length).toBeGreaterThan(20);
  });

  it('shows a default for every variable: its own, or the one loadConfig derives', () => {
    const defaults = CONFIG_VARIABLES.parse({}) as Record<string, unknown>;
    const withoutOwnDefault = Object.keys(CONFIG_VARIABLES.shape)
      .filter((name) => defaults[name] === undefined)
      .sort();
    expect(Object.keys(DERIVED_DEFAULTS).sort()).toEqual(withoutOwnDefault);
    const byName = new Map(rows.map((r) => [r.name, r]));
    expect(byName.get('DATARUN_ADMIN_PUBLIC_KEY')!.default).toBe('`.local/keys/admin.pub.pem` (from DATARUN_LOCAL_DIR)');
    expect(byName.get('DATABASE_URL')!.default).toContain('postgres://datarun_app@127.0.0.1:5432/datarun');
    expect(byName.get('KAFKA_BROKERS')!.default).toBe('`127.0.0.1:9092`');
    expect(byName.get('KAFKA_TOPIC_PREFIX')!.default).toBe('empty');
  });

  it('states the allowed values from the schema', () => {
    const byName = new Map<ConfigVariable, (typeof rows)[number]>(rows.map((r) => [r.name, r]));
    expect(byName.get('LOG_LEVEL')!.allowed).toContain('`silent`');
    expect(byName.get('GATEWAY_PORT')!.allowed).toBe('whole number, 1–65535');
    expect(byName.get('KAFKA_BROKERS')!.allowed).toBe('a comma-separated list of host:port');
    expect(byName.get('GATEWAY_PUBLIC_URL')!.allowed).toBe('URL');
  });
});

describe('generated parts inside hand-written documents', () => {
  const document = ['# Title', '', 'prose', '', startMarker('x', 'src.ts'), 'old table', endMarker('x'), '', 'more prose', ''].join('\n');

  it('replaces only what is between the markers', () => {
    const out = replaceGenerated(document, 'x', 'src.ts', 'new table');
    expect(out).toBe(['# Title', '', 'prose', '', startMarker('x', 'src.ts'), '', 'new table', '', endMarker('x'), '', 'more prose', ''].join('\n'));
  });

  it('refuses a document that lost a marker, or holds one twice', () => {
    expect(() => replaceGenerated(document.replace(endMarker('x'), ''), 'x', 'src.ts', 't')).toThrow(/no start and end markers/);
    expect(() => replaceGenerated(`${document}${endMarker('x')}\n`, 'x', 'src.ts', 't')).toThrow(/more than once/);
  });
});

describe('API reference', () => {
  const documents = Object.fromEntries(API_APPS.map((app) => [app, JSON.parse(readFileSync(`docs/openapi/${app}.json`, 'utf8')) as OpenApiDocument])) as Record<
    (typeof API_APPS)[number],
    OpenApiDocument
  >;

  it('says who may call every operation of the committed documents', () => {
    for (const doc of Object.values(documents)) {
      for (const ops of Object.values(doc.paths)) {
        for (const op of Object.values(ops))
          expect([op.operationId, WHO_MAY_CALL[op.operationId!] ?? op['x-datarun-roles']]).toEqual([op.operationId, expect.any(String)]);
      }
    }
  });

  it('stops on an operation nobody said who may call', () => {
    const doc: OpenApiDocument = { info: { title: 't' }, paths: { '/v1/x': { get: { operationId: 'somethingNew', summary: 'new' } } } };
    expect(() => apiReference({ gateway: doc })).toThrow(/somethingNew is not in WHO_MAY_CALL/);
  });

  it('lists every operation with its problem codes', () => {
    const reference = apiReference(documents);
    expect(reference).toContain('`POST /v1/lookups`');
    expect(reference).toContain('`GET /v1/ops/dead-letters`');
    expect(reference).toMatch(/`POST \/v1\/lookups`[\s\S]*`GRANT_MISSING`/);
  });

  it('reads problem codes from descriptions and from schemas, and only stable ones', () => {
    const doc: OpenApiDocument = {
      info: { title: 't' },
      paths: {},
      components: { schemas: { Missing: { type: 'object', properties: { code: { enum: ['GRANT_MISSING', 'NOT_A_CODE'] } } } } },
    };
    expect(problemCodesOf(doc, { description: 'application/problem+json: CASE_NOT_FOUND, RECORD_NOT_FOUND (OK)' })).toEqual([
      'CASE_NOT_FOUND',
      'RECORD_NOT_FOUND',
    ]);
    expect(problemCodesOf(doc, { content: { 'application/problem+json': { schema: { allOf: [{ $ref: '#/components/schemas/Missing' }] } } } })).toEqual([
      'GRANT_MISSING',
    ]);
  });

  it('lists every stable problem code in docs/api.md', () => {
    const api = readFileSync('docs/api.md', 'utf8');
    for (const code of Object.keys(PROBLEM_CODES)) expect(api).toContain(`\`${code}\``);
  });
});

describe('recorded benchmark results', () => {
  const latency = (p50: number, p99: number) => ({ p50, p99, p99_9: p99 * 2 });
  const run: BenchRun = {
    startedAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:14:05.000Z',
    machine: { cores: 2, model: 'Test CPU', memoryGiB: 8, kernel: '6.1.0' },
    versions: { node: 'v24.22.3', postgres: '15.20', kafka: '4.4.0' },
    parameters: { people: 1000, cases: 20, warmupSeconds: 1, durationSeconds: 2, concurrencies: [16, 64], auditRecords: 1000 },
    setup: { population: { reused: true } },
    phases: {
      lookups: [
        {
          connections: 16,
          measured: { requestsPerSecond: 900, latencyMs: latency(15, 31), errors: 0 },
          failures: 0,
          audit: { rows: 10, requests: 10, exact: true },
        },
        {
          connections: 64,
          measured: { requestsPerSecond: 6000, latencyMs: latency(10, 19), errors: 0 },
          failures: 0,
          audit: { rows: 20, requests: 20, exact: true },
        },
      ],
      pgSelect: [{ connections: 64, measured: { requestsPerSecond: 12000, latencyMs: latency(4, 11), errors: 0 } }],
      pgbench: [{ connections: 64, tps: 30000, latencyMs: 2, failed: 0 }],
      bareHttp: [],
    },
    ratios: {
      'c=16': { lookupOverPgSelect: 0.07, lookupOverBareHttp: 0.03, lookupOverPgbench: 0.03 },
      'c=64': { lookupOverPgSelect: 0.5, lookupOverBareHttp: 0.2, lookupOverPgbench: 0.1 },
    },
    propagation: {
      cases: 400,
      ratePerSecond: 20,
      toUtilityMs: { count: 1200, p50: 80, p99: 180 },
      toCaseMs: { count: 400, p50: 100, p99: 1200 },
      unfinished: 0,
    },
    relayDrain: { rows: 50000, seconds: 8, eventsPerSecond: 6250, left: 0 },
    audit: { verifyPerSecond: 300000, appendPerSecond: 17000, verifySeconds: 3.3, report: { checked: 1000000, ok: true } },
    footprint: { 'lookups c=64': { wallSeconds: 20, cpuSeconds: { gateway: 16, postgres: 8 }, machineBusyPercent: 80 } },
    errors: [],
    conditions: { loadAverageAtStart: [0.5, 0.4, 0.3], loadAverageAtEnd: [2, 1.5, 1] },
  };

  it('judges each target from the figures of the run, at the highest concurrency', () => {
    const recorded = recordedResultsOf(run, 'quiet machine');
    const met = Object.fromEntries(recorded.targets.map((t) => [t.id, t.met]));
    expect(met).toEqual({
      'lookups.rps': true,
      'lookups.p99': true,
      'lookups.errors': true,
      'lookups.audit': true,
      'lookups.ratio.http': true,
      'lookups.ratio.pgbench': false,
      'propagation.p99': false,
      'relay.drain': false,
      'audit.verify': false,
    });
    expect(recorded.targets.find((t) => t.id === 'audit.verify')!.floorMet).toBe(true);
    expect(recorded.targets.find((t) => t.id === 'relay.drain')!.floorMet).toBe(true);
    expect(recorded.targets.find((t) => t.id === 'lookups.ratio.pgbench')!.detail).toBe('0.03 at concurrency 16');
    expect(recorded.conditions).toMatchObject({
      note: 'quiet machine',
      populationReused: true,
      lookupsCpu: { machineBusyPercent: 80, cores: { gateway: 0.8, postgres: 0.4 } },
    });
  });

  it('renders what was missed as missed, and what did not run as not measured', () => {
    const report = performanceReport(recordedResultsOf({ ...run, relayDrain: null }));
    expect(report).toMatch(/completion → all three utilities applied.*\| 1,200 ms .*\| \*\*missed\*\* \|/);
    expect(report).toMatch(/relay drain.*\| not measured \| — \|/);
    expect(report).toMatch(/audit verification.*floor met, target \*\*missed\*\*/);
  });

  it('commits figures whose verdicts follow from their numbers (or says that none are recorded)', () => {
    if (!existsSync('docs/performance/results.json')) {
      expect(readFileSync('docs/performance.md', 'utf8')).toContain('No run has been recorded yet');
      return;
    }
    const committed = JSON.parse(readFileSync('docs/performance/results.json', 'utf8')) as RecordedResults;
    const byId = new Map(committed.targets.map((t) => [t.id, t]));
    const check = (id: string, ok: (v: number) => boolean) => {
      const t = byId.get(id)!;
      if (t.measured !== null) expect([id, t.met]).toEqual([id, ok(t.measured)]);
    };
    check('lookups.rps', (v) => v >= 5000);
    check('lookups.p99', (v) => v <= 20);
    check('relay.drain', (v) => v >= 20_000);
    check('audit.verify', (v) => v >= 500_000);
    expect(committed.versions.node).toMatch(/^v\d+\./);
  });

  it('commits the file as the bench writes it (Prettier-formatted), or says that none is recorded', async () => {
    if (!existsSync('docs/performance/results.json')) {
      expect(readFileSync('docs/performance.md', 'utf8')).toContain('No run has been recorded yet');
      return;
    }
    const text = readFileSync('docs/performance/results.json', 'utf8');
    expect(await recordedResultsText(JSON.parse(text) as RecordedResults)).toBe(text);
  });
});
