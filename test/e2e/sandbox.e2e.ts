// The sandbox plays the four departments over HTTP from the synthetic population, and the
// gateway's federated adapter can call it like a real department, with the platform's token.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { loadKeys, PlatformCallSigner } from '@datarun/auth';
import { EgressPolicy } from '@datarun/egress';
import { checkDigitOf } from '@datarun/identity';
import { RecordSchemaGuard } from '@datarun/schemas';
import { FederatedSourceAdapter, type SourceDescriptor } from '@datarun/sources';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { generatePopulation, type PersonSummary } from '@datarun/population';
import { bootApp, type TestApp } from '../support/apps.js';
import { testConfig } from '../support/infra.js';

const PEOPLE = 300;
const SEED = 7;
const SOURCES = ['household', 'marriage', 'social-security', 'property'] as const;
const guard = new RecordSchemaGuard();
const schemaOf = (source: string) => guard.compile(JSON.parse(readFileSync(join(process.cwd(), 'schemas', 'records', `${source}.json`), 'utf8')));

const population = generatePopulation({ people: PEOPLE, seed: SEED });
const people = [...population.people()];
// A married owner has a record in all four departments.
const owner = people.find((p): p is PersonSummary & { spouseIdNumber: string } => p.spouseIdNumber !== undefined && p.propertyUnits.length > 0)!;
const child = people.find((p) => p.birthDate > '2010-01-01')!;
const stranger = (() => {
  const first17 = '33082519800101999';
  return first17 + checkDigitOf(first17);
})();

const config = testConfig({ SANDBOX_PEOPLE: String(PEOPLE), SANDBOX_SEED: String(SEED) });
/** The gateway's identity, as the gateway loads it. */
const signer = new PlatformCallSigner(loadKeys(config, { required: ['platformSigningKey'] }, 'gateway').require('platformSigningKey'));
const caller = { member: 'zj.test.hall', actor: 'clerk-7', purpose: 'property-transfer', caseId: randomUUID() };
/** The gateway's token for GET /v1/departments/<source>/records/<subject>, as the adapter makes it. */
const bearer = (source: string, subject: string) =>
  `Bearer ${signer.sign({ audience: source, ...caller, correlationId: 'sandbox-e2e', method: 'GET', url: `http://127.0.0.1/v1/departments/${source}/records/${subject}` })}`;

describe('the sandbox departments', () => {
  let t: TestApp;

  beforeAll(async () => {
    expect(owner).toBeDefined();
    expect(people.some((p) => p.idNumber === stranger)).toBe(false);
    t = await bootApp(SandboxModule.forRoot(config), 'sandbox');
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(SOURCES)("serves a known person's %s record, valid against its schema", async (source) => {
    const res = await t.http.get(`/v1/departments/${source}/records/${owner.idNumber}`).set('authorization', bearer(source, owner.idNumber)).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(schemaOf(source).validate(res.body)).toEqual({ ok: true });
    expect(res.body.idNumber).toBe(owner.idNumber);
    expect(res.body.name).toBe(owner.name);
  });

  it('serves records that agree with each other', async () => {
    const marriage = (
      await t.http.get(`/v1/departments/marriage/records/${owner.idNumber}`).set('authorization', bearer('marriage', owner.idNumber)).expect(200)
    ).body;
    expect(marriage).toMatchObject({ maritalStatus: 'married', spouseIdNumber: owner.spouseIdNumber });
    const spouse = (
      await t.http.get(`/v1/departments/marriage/records/${owner.spouseIdNumber}`).set('authorization', bearer('marriage', owner.spouseIdNumber)).expect(200)
    ).body;
    expect(spouse.spouseIdNumber).toBe(owner.idNumber);
    const property = (
      await t.http.get(`/v1/departments/property/records/${owner.idNumber}`).set('authorization', bearer('property', owner.idNumber)).expect(200)
    ).body;
    expect(property.properties.map((u: { unitNumber: string }) => u.unitNumber)).toEqual(owner.propertyUnits);
  });

  it.each([
    ['a stranger', 'household', () => stranger],
    ['a child at the social-security department', 'social-security', () => child.idNumber],
    ['an unknown department', 'tax', () => owner.idNumber],
  ])('answers 404 RECORD_NOT_FOUND for %s', async (_case, source, subject) => {
    const res = await t.http.get(`/v1/departments/${source}/records/${subject()}`).set('authorization', bearer(source, subject())).expect(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, code: 'RECORD_NOT_FOUND' });
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await t.http.get('/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    expect(doc.paths['/v1/departments/{source}/records/{subject}']?.get).toBeDefined();
  });

  describe('called by the federated source adapter', () => {
    let endpoint: string;
    let egress: EgressPolicy;
    const marriageSchema = schemaOf('marriage');
    const marriage = (): SourceDescriptor => ({
      id: 'marriage',
      owner: 'zj.quzhou.civil-affairs',
      mode: 'federated',
      endpoint,
      subjectKey: 'idNumber',
      schemaVersion: 1,
      validate: (record) => marriageSchema.validate(record),
    });

    beforeAll(async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.getHttpServer().address() as AddressInfo;
      endpoint = `http://127.0.0.1:${port}/v1/departments/marriage`;
      egress = EgressPolicy.of([`127.0.0.1:${port}`]);
    });

    it('fetches and validates a marriage record', async () => {
      const adapter = new FederatedSourceAdapter({ timeoutMs: 5000, egress, identity: signer });
      const fetched = await adapter.fetch(marriage(), owner.idNumber, { correlationId: 'sandbox-e2e', caller });
      expect(fetched).not.toBeNull();
      expect(fetched!.data).toMatchObject({ idNumber: owner.idNumber, name: owner.name, maritalStatus: 'married', spouseIdNumber: owner.spouseIdNumber });
      expect(fetched!.schemaVersion).toBe(1);
      expect(fetched!.retrievedAt).toBeInstanceOf(Date);
      expect(adapter.circuitState('marriage')).toBe('closed');
    });

    it('answers null for a stranger', async () => {
      await expect(new FederatedSourceAdapter({ egress, identity: signer }).fetch(marriage(), stranger, { caller })).resolves.toBeNull();
    });
  });
});
