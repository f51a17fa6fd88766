// Hardening item 2, calls to departments carry datarun's identity. Before it, a department's
// endpoint could not tell datarun from anyone else: the sandbox's departments answered any
// anonymous GET with a person's record. Now each federated call carries a one-minute platform
// token (ES256, public key at GET /v1/platform/jwks) naming the source, purpose, case, acting person
// and correlation id, and the sandbox's departments refuse every other caller with 401.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlatformCallSigner, verifyPlatformCall, jwksToKeyObjects, loadKeys } from '@datarun/auth';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { buildCity, type City, MATTER } from '../support/exchange.js';
import { caseOfOneParty, grantAndLookup, registerFederated } from '../support/federated.js';
import { testConfig } from '../support/infra.js';

describe('calls to departments carry datarun’s identity', () => {
  let city: City;
  let sandbox: TestApp;
  let sandboxPort: number;
  let subject: string;
  let caseId: string;
  /** A department of the test's own that keeps what each call carried, and answers a valid record. */
  const seen: Array<{ authorization?: string; requestId?: string; path: string }> = [];
  const department = http.createServer((req, res) => {
    seen.push({ authorization: req.headers.authorization, requestId: req.headers['x-request-id'] as string | undefined, path: req.url ?? '' });
    const buyer = city.people.find((p) => p.idNumber === subject)!;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ idNumber: subject, name: buyer.name, maritalStatus: 'married' }));
  });

  const config = testConfig({ SANDBOX_PEOPLE: '300', SANDBOX_SEED: '7' });
  const gatewayIdentity = new PlatformCallSigner(loadKeys(config, { required: ['platformSigningKey'] }, 'gateway').require('platformSigningKey'));
  const claims = { member: 'zj.test.hall', actor: 'clerk-7', purpose: MATTER, caseId: randomUUID(), correlationId: 'identity-e2e' };
  /** `htm` and `htu` of the marriage department's record of `idNumber` at the sandbox. */
  const request = (idNumber: string) => ({ method: 'GET', url: `http://127.0.0.1:${sandboxPort}/v1/departments/marriage/records/${idNumber}` });

  /** What would show the person's record: their name or a record field (the URL in `instance` names the subject). */
  const recordOf = (idNumber: string) => new RegExp(`${city.people.find((p) => p.idNumber === idNumber)!.name}|maritalStatus`);

  const register = async (id: string, endpoint: string, schema: string) => expect((await registerFederated(city, id, endpoint, schema)).status).toBe(201);
  const lookupOf = (id: string, field: string) => grantAndLookup(city, id, field, { caseId, subject, requestId: 'identity-e2e-lookup' });

  beforeAll(async () => {
    await new Promise<void>((r) => department.listen(0, '127.0.0.1', r));
    sandbox = await bootApp(SandboxModule.forRoot(config), 'sandbox');
    await sandbox.app.listen({ port: 0, host: '127.0.0.1' });
    sandboxPort = (sandbox.app.getHttpServer().address() as AddressInfo).port;
    city = await buildCity(300, { EGRESS_ALLOWLIST: `127.0.0.1:${sandboxPort},127.0.0.1:${(department.address() as AddressInfo).port}` });
    ({ caseId, subject } = await caseOfOneParty(city));
  }, 120_000);
  afterAll(async () => {
    await city?.close();
    await sandbox?.close();
    department.closeAllConnections();
    await new Promise((r) => department.close(r));
  });

  it('the sandbox’s departments refuse an anonymous caller with 401, and show no record', async () => {
    const res = await sandbox.http.get(`/v1/departments/marriage/records/${subject}`).expect(401);
    expect(res.body.code).toBe('TOKEN_MISSING');
    expect(JSON.stringify(res.body)).not.toMatch(recordOf(subject));
  });

  it.each([
    [
      'a token signed by another key under the platform’s kid',
      () =>
        new PlatformCallSigner({ kid: 'platform', privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }).sign({
          audience: 'marriage',
          ...claims,
          ...request(subject),
        }),
    ],
    ['a platform token for another department', () => gatewayIdentity.sign({ audience: 'household', ...claims, ...request(subject) })],
    // A token a department logged, replayed to ask about another person.
    [
      'a genuine token for another person’s record',
      () => gatewayIdentity.sign({ audience: 'marriage', ...claims, ...request(city.people.find((p) => p.idNumber !== subject)!.idNumber) }),
    ],
    ['a member token of the right shape', async () => (await city.hall.token('clerk-7')) as string],
  ])('they refuse %s with 401 TOKEN_INVALID', async (_why, token) => {
    const res = await sandbox.http
      .get(`/v1/departments/marriage/records/${subject}`)
      .set('authorization', `Bearer ${await token()}`)
      .expect(401);
    expect(res.body.code).toBe('TOKEN_INVALID');
    expect(JSON.stringify(res.body)).not.toMatch(recordOf(subject));
  });

  it('a lookup through the gateway reaches the sandbox’s department with a token it accepts', async () => {
    await register('social-security', `http://127.0.0.1:${sandboxPort}/v1/departments/social-security`, 'social-security');
    const res = await lookupOf('social-security', 'insuredStatus');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data)).toEqual(['insuredStatus']);
  });

  it('the token names the source, purpose, case, acting person and correlation id, and verifies with the published JWKS', async () => {
    await register('marriage-live', `http://127.0.0.1:${(department.address() as AddressInfo).port}/v1`, 'marriage');
    const res = await lookupOf('marriage-live', 'maritalStatus');
    expect(res.status).toBe(200);
    const call = seen.at(-1)!;
    expect(call.authorization).toMatch(/^Bearer /);

    const jwks = await city.gateway.http.get('/v1/platform/jwks').expect(200);
    expect(jwks.headers['content-type']).toMatch(/^application\/json/);
    for (const key of jwks.body.keys) expect(key).not.toHaveProperty('d');
    const asReceived = { method: 'GET', path: call.path };
    const verified = await verifyPlatformCall(call.authorization, jwksToKeyObjects(jwks.body), { audience: 'marriage-live', request: asReceived });
    expect(call.path).toBe(`/v1/records/${subject}`);
    expect(verified).toEqual({
      audience: 'marriage-live',
      member: city.hall.id,
      actor: 'clerk-7',
      purpose: MATTER,
      caseId,
      correlationId: call.requestId,
      method: 'GET',
      url: `http://127.0.0.1:${(department.address() as AddressInfo).port}/v1/records/${subject}`,
    });
    expect(call.requestId).toBe('identity-e2e-lookup');
    // Not for any other department: the audience is this source.
    await expect(verifyPlatformCall(call.authorization, jwksToKeyObjects(jwks.body), { audience: 'marriage', request: asReceived })).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
  });
});
