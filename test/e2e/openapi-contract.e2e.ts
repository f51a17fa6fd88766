// The answers are what the OpenAPI documents say. Every answer the e2e suites get through
// bootApp's client is checked against the document its app serves (test/support/apps.ts); this
// suite shows the check fails when a document lies, and walks the routes the other suites do not
// reach, each with its main success and a problem, so that every route's schemas meet real answers.
import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, checkedClient, type TestApp } from '../support/apps.js';
import { buildCity, type City, MATTER } from '../support/exchange.js';
import { testConfig } from '../support/infra.js';
import { registerMember, type TestMember } from '../support/members.js';
import { OpenApiContract, type OpenApiDocument } from '../support/openapi-contract.js';

const APPLICATION = {
  requestId: randomUUID(),
  request: 'transfer',
  accountNumber: 'W-7001',
  holder: { name: '王小明', idNumberMasked: '110105********002X' },
  effectiveDate: '2026-07-01',
  materials: [],
};
const DEED = Buffer.from('%PDF-1.7 the deed');
const DEED_MATERIAL = {
  type: 'property-certificate',
  sha256: createHash('sha256').update(DEED).digest('hex'),
  contentType: 'application/pdf',
  size: DEED.length,
  content: DEED.toString('base64'),
};

describe('the simulated utilities (sandbox): every route, checked against the document', () => {
  let sandbox: TestApp;
  beforeAll(async () => {
    sandbox = await bootApp(SandboxModule.forRoot(testConfig()), 'sandbox');
  });
  afterAll(() => sandbox?.close());

  it('applies, lists and shows, and refuses what is wrong', async () => {
    await sandbox.http.get('/v1/utilities/water').expect(200);
    const applied = await sandbox.http.post('/v1/utilities/water/requests').send(APPLICATION).expect(200);
    expect(applied.body.duplicate).toBe(false);
    await sandbox.http
      .post('/v1/utilities/water/requests')
      .send({ ...APPLICATION, request: 'move' })
      .expect(400);
    await sandbox.http
      .post('/v1/utilities/water/requests')
      .send({ ...APPLICATION, requestId: randomUUID(), accountNumber: 'CLOSED-1' })
      .expect(409);
    // The documents travel with the application: checked against their SHA-256, listed by the hash
    // the system computed and their size, and their bytes fetched back.
    const withDeed = { ...APPLICATION, requestId: randomUUID(), accountNumber: 'W-7002', materials: [DEED_MATERIAL] };
    await sandbox.http.post('/v1/utilities/water/requests').send(withDeed).expect(200);
    const forged = await sandbox.http
      .post('/v1/utilities/water/requests')
      .send({ ...withDeed, requestId: randomUUID(), materials: [{ ...DEED_MATERIAL, content: Buffer.from('%PDF-1.7 the dead').toString('base64') }] })
      .expect(400);
    expect(forged.body.code).toBe('MATERIAL_HASH_MISMATCH');
    const listed = await sandbox.http.get('/v1/utilities/water/requests').expect(200);
    expect(listed.body.requests.find((r: { requestId: string }) => r.requestId === withDeed.requestId).materials).toEqual([
      { type: DEED_MATERIAL.type, contentType: 'application/pdf', size: DEED.length, sha256: DEED_MATERIAL.sha256 },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(DEED_MATERIAL.content);
    const kept = await sandbox.http.get(`/v1/utilities/water/requests/${withDeed.requestId}/materials/property-certificate`).expect(200);
    expect(kept.headers['content-type']).toBe('application/pdf');
    expect(Buffer.from(kept.body as Buffer).equals(DEED)).toBe(true);
    await sandbox.http.get(`/v1/utilities/water/requests/${withDeed.requestId}/materials/id-card`).expect(404);
    const account = await sandbox.http.get('/v1/utilities/water/accounts/W-7002').expect(200);
    expect(account.body.materials).toEqual([
      { requestId: withDeed.requestId, type: DEED_MATERIAL.type, contentType: 'application/pdf', size: DEED.length, sha256: DEED_MATERIAL.sha256 },
    ]);
    await sandbox.http.get('/v1/utilities/water/accounts/W-7001').expect(200);
    await sandbox.http.get('/v1/utilities/water/accounts/W-0000').expect(404);
  });

  it('slows down and goes down on request', async () => {
    await sandbox.http.post('/v1/utilities/gas/latency').send({ ms: 0 }).expect(204);
    await sandbox.http.post('/v1/utilities/gas/latency').send({ ms: -1 }).expect(400);
    await sandbox.http.post('/v1/utilities/gas/outage').send({ seconds: 60 }).expect(204);
    await sandbox.http.get('/v1/utilities/gas').expect(503);
    await sandbox.http.post('/v1/utilities/gas/requests').send(APPLICATION).expect(503);
    await sandbox.http.post('/v1/utilities/gas/outage').send({ seconds: 0 }).expect(204);
    await sandbox.http.post('/v1/utilities/gas/outage').set('content-type', 'text/csv').send('seconds\n1').expect(415);
  });

  describe('a document that lies fails the check', () => {
    const lying = (change: (doc: OpenApiDocument & { components: { schemas: Record<string, Record<string, unknown>> } }) => void) => {
      const doc = structuredClone(sandbox.openApi) as OpenApiDocument & { components: { schemas: Record<string, Record<string, unknown>> } };
      change(doc);
      return new OpenApiContract(doc);
    };
    const answerOf = async (url: string) => {
      const res = await request(sandbox.app.getHttpServer()).get(url);
      return { method: 'get', url, status: res.status, contentType: res.headers['content-type'], text: res.text };
    };

    it('a field of the wrong type, a missing field, an undocumented field', async () => {
      const summary = await answerOf('/v1/utilities/water');
      expect(new OpenApiContract(sandbox.openApi).check(summary)).toBeUndefined();
      const wrongType = lying((doc) => Object.assign(doc.components.schemas.UtilitySummary.properties as object, { available: { type: 'string' } }));
      expect(wrongType.check(summary)).toMatch(/^GET \/v1\/utilities\/\{kind\} 200 application\/json: the body does not match .*\/available must be string/s);
      const missing = lying((doc) => {
        Object.assign(doc.components.schemas.UtilitySummary.properties as object, { region: { type: 'string' } });
        (doc.components.schemas.UtilitySummary.required as string[]).push('region');
      });
      expect(missing.check(summary)).toMatch(/\/region is required/);
      const undocumented = lying((doc) => {
        const summarySchema = doc.components.schemas.UtilitySummary;
        delete (summarySchema.properties as Record<string, unknown>).applied;
        summarySchema.required = (summarySchema.required as string[]).filter((name) => name !== 'applied');
      });
      expect(undocumented.check(summary)).toMatch(/\/applied is not allowed/);
    });

    it('a status, a media type or a problem code it does not list', async () => {
      const notFound = await answerOf('/v1/utilities/water/accounts/nobody');
      expect(new OpenApiContract(sandbox.openApi).check(notFound)).toBeUndefined();
      const operation = (doc: OpenApiDocument) => doc.paths['/v1/utilities/{kind}/accounts/{number}'].get;
      expect(lying((doc) => delete operation(doc).responses?.['404']).check(notFound)).toMatch(/the status is not among the responses/);
      const asText = lying((doc) => {
        const answer = operation(doc).responses!['404'];
        answer.content = { 'text/plain': answer.content!['application/problem+json'] };
      });
      expect(asText.check(notFound)).toMatch(/answered application\/problem\+json, the document declares text\/plain/);
      const otherCode = lying((doc) => {
        const schema = operation(doc).responses!['404'].content!['application/problem+json'].schema as { allOf: Array<{ properties?: { code: unknown } }> };
        schema.allOf[1].properties!.code = { enum: ['RECORD_NOT_FOUND'] };
      });
      expect(otherCode.check(notFound)).toMatch(/\/code must be equal to one of the allowed values/);
    });

    it('fails the test through the client every e2e suite uses', async () => {
      const client = checkedClient(
        request(sandbox.app.getHttpServer()),
        lying((doc) => Object.assign(doc.components.schemas.UtilitySummary.properties as object, { accounts: { type: 'string' } })),
      );
      await expect(client.get('/v1/utilities/water').expect(200)).rejects.toThrow(
        /^OpenAPI contract: GET \/v1\/utilities\/\{kind\} 200 .*\/accounts must be string/s,
      );
    });
  });
});

describe('registry, gateway and audit routes the story suites do not reach', () => {
  let city: City;
  let audit: TestApp;
  let auditor: TestMember;

  beforeAll(async () => {
    city = await buildCity(20);
    audit = await bootApp(AuditAppModule.forRoot(city.db.config), 'audit');
    auditor = await registerMember(city.registry, city.admin, 'auditor', 'zj.test.contract');
  });
  afterAll(async () => {
    await audit?.close();
    await city?.close();
  });

  it('registry: a member, a source and a matter, and the 404 of each', async () => {
    const as = await city.hall.auth();
    await city.registry.http.get(`/v1/members/${city.hall.id}`).set('authorization', as).expect(200);
    await city.registry.http.get('/v1/members/zj.nobody').set('authorization', as).expect(404);
    await city.registry.http.get('/v1/sources/household').set('authorization', as).expect(200);
    await city.registry.http.get('/v1/sources/nothing').set('authorization', as).expect(404);
    await city.registry.http.get('/v1/matters').set('authorization', as).expect(200);
    await city.registry.http.get(`/v1/matters/${MATTER}`).set('authorization', as).expect(200);
    await city.registry.http.get('/v1/matters/no-such-matter').set('authorization', as).expect(404);
  });

  it('registry: a grant rejected, then not rejected again, and one that does not exist', async () => {
    const requested = await city.registry.http
      .post('/v1/grants')
      .set('authorization', await city.otherHall.auth())
      .send({ source: 'household', fields: ['name'], purposes: [MATTER], validUntil: new Date(Date.now() + 86400_000).toISOString(), reason: '核验' })
      .expect(201);
    const dept = await city.departments.household.auth();
    await city.registry.http.post(`/v1/grants/${requested.body.id}/reject`).set('authorization', dept).send({ note: '用途不符' }).expect(200);
    await city.registry.http.post(`/v1/grants/${requested.body.id}/reject`).set('authorization', dept).send({}).expect(409);
    await city.registry.http.get(`/v1/grants/${randomUUID()}`).set('authorization', dept).expect(404);
  });

  it('gateway: a case that is not there, a withdrawn case withdrawn again, a link that is not valid', async () => {
    const as = await city.hall.auth();
    await city.gateway.http.get(`/v1/cases/${randomUUID()}`).set('authorization', as).expect(404);
    const person = city.people[0];
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', as)
      .send({ matter: MATTER, parties: [{ idNumber: person.idNumber, name: person.name, role: 'seller' }], materials: [] })
      .expect(201);
    await city.gateway.http.post(`/v1/cases/${opened.body.id}/withdraw`).set('authorization', as).expect(200);
    await city.gateway.http.post(`/v1/cases/${opened.body.id}/withdraw`).set('authorization', as).expect(409);
    const water = city.utilities.water;
    await city.gateway.http
      .get(`/v1/materials/${randomUUID()}?req=${randomUUID()}&to=${water.id}&exp=1&sig=x`)
      .set('authorization', await water.auth('system'))
      .expect(403);
  });

  it('audit: anomalies, and what answers without audit keys, a checkpoint or a citizen', async () => {
    const as = await auditor.auth();
    await audit.http.get('/v1/audit/reports/anomalies').set('authorization', as).expect(200);
    await audit.http.get('/v1/audit/reports/anomalies?from=yesterday').set('authorization', as).expect(400);
    await audit.http.get('/v1/audit/checkpoints/latest').set('authorization', as).expect(404);
    await audit.http
      .post('/v1/audit/checkpoints')
      .set('authorization', await city.admin.auth())
      .expect(503);
    await audit.http.get(`/v1/audit/events/${randomUUID()}/proof`).set('authorization', as).expect(404);
    await audit.http.get('/v1/audit/verify').set('authorization', as).expect(503);
    await audit.http.get('/v1/audit/events?format=csv').set('authorization', as).expect(200);
    await audit.http.get('/v1/me/access-log').set('authorization', as).expect(403);
  });
});
