// Hardening item 1, server-side request forgery through federated endpoints. Before the egress
// policy a department could register any http(s) URL — another port of the gateway's host, `[::1]`,
// `0.0.0.0`, `localhost.`, a `#` or `?` that swallows the `/records/{id}` suffix — and the gateway
// called it on every lookup. Each test keeps a listener of its own on loopback that is NOT on the
// allowlist and shows it received nothing, while a listener that is on it still serves lookups.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EgressPolicy } from '@datarun/egress';
import { RecordSchemaGuard } from '@datarun/schemas';
import { FederatedSourceAdapter, type SourceDescriptor } from '@datarun/sources';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { buildCity, type City, schemaOf } from '../support/exchange.js';
import { caseOfOneParty, grantAndLookup, registerFederated } from '../support/federated.js';
import { testConfig } from '../support/infra.js';

/** An HTTP listener on 127.0.0.1 that counts every connection made to it, request or not. */
async function listener(
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, r) => void r.writeHead(500).end('internal: db=secret_db_name'),
) {
  const connections: string[] = [];
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    answer(req, res);
  });
  server.on('connection', (socket) => connections.push(String(socket.remotePort)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('SSRF through federated endpoints', () => {
  let city: City;
  let sandbox: TestApp;
  let sandboxPort: number;
  let target: Awaited<ReturnType<typeof listener>>;
  let redirecting: Awaited<ReturnType<typeof listener>>;
  let caseId: string;
  let subject: string;

  const register = (id: string, endpoint: string, schema?: string) => registerFederated(city, id, endpoint, schema);
  const lookupOf = (id: string, field = 'maritalStatus') => grantAndLookup(city, id, field, { caseId, subject });

  beforeAll(async () => {
    target = await listener();
    // An allowed department that answers every call with a redirect to the target.
    redirecting = await listener((_req, res) => void res.writeHead(302, { location: `http://127.0.0.1:${target.port}/internal` }).end());
    // The sandbox plays the legitimate department: the allowlist names it by address and port.
    sandbox = await bootApp(SandboxModule.forRoot(testConfig({ SANDBOX_PEOPLE: '300', SANDBOX_SEED: '7' })), 'sandbox');
    await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
    sandboxPort = (sandbox.app.getHttpServer().address() as AddressInfo).port;
    // `localhost` is listed by name on the target's port: a name whose DNS answer is loopback.
    city = await buildCity(300, { EGRESS_ALLOWLIST: `127.0.0.1:${sandboxPort},127.0.0.1:${redirecting.port},localhost:${target.port}` });
    ({ caseId, subject } = await caseOfOneParty(city));
  }, 120_000);
  afterAll(async () => {
    await city?.close();
    await sandbox?.close();
    await target?.close();
    await redirecting?.close();
  });

  it('still lets a department on the allowlist serve lookups (the sandbox, by its loopback address and port)', async () => {
    // The sandbox's department takes tokens for its own source id: the source is registered under it.
    const endpoint = `http://127.0.0.1:${sandboxPort}/v1/departments/social-security`;
    await register('social-security', endpoint, 'social-security').then((r) => expect(r.status).toBe(201));
    const res = await lookupOf('social-security', 'insuredStatus');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data)).toEqual(['insuredStatus']);
  });

  it.each([
    ['another port of the host, its suffix swallowed by a fragment', (p: number) => `http://127.0.0.1:${p}/admin#`],
    ['another port of the host, its suffix swallowed by a query', (p: number) => `http://127.0.0.1:${p}/admin?x=`],
    ['IPv6 loopback', (p: number) => `http://[::1]:${p}/`],
    ['the unspecified address', (p: number) => `http://0.0.0.0:${p}/`],
    ['localhost with a trailing dot', (p: number) => `http://localhost.:${p}/`],
    ['another loopback address', (p: number) => `http://127.0.0.2:${p}/`],
    ['the IPv4-mapped loopback', (p: number) => `http://[::ffff:127.0.0.1]:${p}/`],
    ['a decimal spelling of loopback', (p: number) => `http://2130706433:${p}/`],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a private address', () => 'http://10.0.0.1/'],
    ['credentials in the URL', (p: number) => `http://user:pw@127.0.0.1:${p}/`],
  ])('refuses to register %s: 400 ENDPOINT_NOT_ALLOWED, nothing stored, the listener got nothing', async (_attack, endpointOf) => {
    const id = `ssrf-${randomUUID().slice(0, 8)}`;
    const res = await register(id, endpointOf(target.port)).then((r) => r);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ENDPOINT_NOT_ALLOWED');
    expect((await city.db.ownerQuery('SELECT count(*)::int AS n FROM source WHERE id = $1', [id])).rows[0].n).toBe(0);
    expect(target.connections).toEqual([]);
  });

  it('refuses at lookup an endpoint stored before the allowlist: 502, nothing of the target, the listener got nothing', async () => {
    await register('marriage-legacy', `http://127.0.0.1:${sandboxPort}/v1/departments/marriage`).then((r) => expect(r.status).toBe(201));
    // As a department registered it before the fix: the gateway used to call it on every lookup.
    await city.db.ownerQuery('UPDATE source SET endpoint = $1 WHERE id = $2', [`http://127.0.0.1:${target.port}/admin#`, 'marriage-legacy']);
    const res = await lookupOf('marriage-legacy');
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('SOURCE_UNAVAILABLE');
    expect(res.body.detail).toContain('egress allowlist');
    expect(JSON.stringify(res.body)).not.toContain(String(target.port));
    expect(target.connections).toEqual([]);
  });

  it('refuses at connect time a listed name whose DNS answer is loopback: 502, the listener got no connection', async () => {
    // Allowed at registration: `localhost:<port>` is on the list, as a name.
    await register('marriage-by-name', `http://localhost:${target.port}/v1/departments/marriage`).then((r) => expect(r.status).toBe(201));
    const res = await lookupOf('marriage-by-name');
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('SOURCE_UNAVAILABLE');
    expect(res.body.detail).toBe('the endpoint of marriage-by-name resolves outside the egress allowlist; datarun did not call it');
    expect(target.connections).toEqual([]);
  });

  it('refuses a name that a later DNS answer points inside (the resolver injected), before any connection', async () => {
    const marriage = new RecordSchemaGuard().compile(schemaOf('marriage'));
    const source: SourceDescriptor = {
      id: 'marriage',
      owner: 'zj.test.minzheng',
      mode: 'federated',
      endpoint: `http://dept.example.test:${target.port}/v1/departments/marriage`,
      subjectKey: 'idNumber',
      schemaVersion: 1,
      validate: (r) => marriage.validate(r),
    };
    // The name is on the list and was public when it was registered; DNS now answers the target's loopback address.
    let dns = '93.184.216.34';
    const asked: string[] = [];
    const egress = EgressPolicy.of([`dept.example.test:${target.port}`], {
      resolve: async (name) => {
        asked.push(name);
        return [{ address: dns, family: 4 }];
      },
    });
    expect(egress.check(source.endpoint!).hostname).toBe('dept.example.test');
    dns = '127.0.0.1';
    const adapter = new FederatedSourceAdapter({ egress, retries: 0 });
    const refused = await adapter.fetch(source, subject).then(
      () => undefined,
      (e: { code?: string; detail?: string }) => e,
    );
    expect(refused).toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
      detail: 'the endpoint of marriage resolves outside the egress allowlist; datarun did not call it',
    });
    expect(target.connections).toEqual([]);
    adapter.onApplicationShutdown();
  });

  it('does not follow a redirect from an allowed department, nor repeat what it said', async () => {
    await register('marriage-redirect', `http://127.0.0.1:${redirecting.port}/v1`).then((r) => expect(r.status).toBe(201));
    const res = await lookupOf('marriage-redirect');
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('SOURCE_UNAVAILABLE');
    expect(JSON.stringify(res.body)).not.toMatch(/302|internal|location/i);
    expect(redirecting.requests.length).toBeGreaterThan(0);
    expect(target.connections).toEqual([]);
  });
});
