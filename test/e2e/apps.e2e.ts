// Every app boots on the real database and broker, reports ready, serves metrics, and describes
// every route it registered in its OpenAPI document.
import { connectorMember, type DatarunConfig } from '@datarun/config';
import { routesOf } from '@datarun/platform';
import type { DynamicModule } from '@nestjs/common';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { ConnectorModule } from '../../apps/connector/src/app.module.js';
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase, testConfig } from '../support/infra.js';
import type { AddressInfo } from 'node:net';

let utilitySystem = 'http://127.0.0.1:1';
let sandbox: TestApp | undefined;
beforeAll(async () => {
  sandbox = await bootApp(SandboxModule.forRoot(testConfig()), 'sandbox');
  await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
  utilitySystem = `http://127.0.0.1:${(sandbox.app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(() => sandbox?.close());

const APPS: Array<[string, (c: DatarunConfig) => DynamicModule, string[]]> = [
  ['gateway', (c) => GatewayModule.forRoot(c), ['database']],
  ['registry', (c) => RegistryAppModule.forRoot(c), ['database']],
  ['audit', (c) => AuditAppModule.forRoot(c), ['database', 'kafka']],
  ['relay', (c) => RelayModule.forRoot(c), ['database', 'kafka']],
  // The connector's own system is the sandbox's simulated water company, started above; it needs no database.
  [
    'connector',
    (c) =>
      ConnectorModule.forRoot({
        ...c,
        connector: {
          ...c.connector,
          member: connectorMember(c, { id: 'zj.demo.water', utilityKind: 'water', systemUrl: `${utilitySystem}/v1/utilities/water`, inbox: ':memory:' }),
        },
      }),
    ['kafka', 'recipient-system'],
  ],
  ['sandbox', (c) => SandboxModule.forRoot(c), []],
];

/** Fastify's `/a/:b` and OpenAPI's `/a/{b}` name the same path. */
const toOpenApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
const UNDOCUMENTED = /^\/(docs|openapi\.(json|yaml))(\/|$)|^\*$|^\/docs\//;

describe.each(APPS)('the %s app', (name, build, dependencies) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await migratedDatabase();
    t = await bootApp(build(db.config), name);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('is live and ready, having checked exactly its dependencies', async () => {
    await t.http.get('/health/live').expect(200, { status: 'ok' });
    const ready = await t.http.get('/health/ready').expect(200);
    expect(ready.body.status).toBe('ok');
    expect(Object.keys(ready.body.details).sort()).toEqual([...dependencies].sort());
  });

  it('serves Prometheus metrics including its request histogram', async () => {
    await t.http.get('/health/live');
    const res = await t.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/health\/live",code="200"\} [1-9]/);
    expect(res.text).toContain('process_resident_memory_bytes');
  });

  it('describes every registered route in /openapi.json', async () => {
    const doc = (await t.http.get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    const undocumented = routesOf(t.app)
      .filter((r) => !UNDOCUMENTED.test(r.url) && r.method !== 'head' && r.method !== 'options')
      .filter((r) => !doc.paths[toOpenApiPath(r.url)]?.[r.method])
      .map((r) => `${r.method.toUpperCase()} ${r.url}`);
    expect(undocumented).toEqual([]);
    expect(doc.paths['/health/ready']).toBeDefined();
    await t.http.get('/docs').expect((res) => expect([200, 301, 302]).toContain(res.status));
  });

  it('answers an unknown path with problem+json and echoes the correlation id', async () => {
    const res = await t.http.get('/v1/no-such-thing').set('x-request-id', 'corr-123').expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-request-id']).toBe('corr-123');
    expect(res.body).toMatchObject({ status: 404, code: 'NOT_FOUND', correlationId: 'corr-123' });
  });
});
