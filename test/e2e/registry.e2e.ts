// The registry through its HTTP API alone, as departments, consumers and the admin use it.
import { readFileSync } from 'node:fs';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { adminKeyFile, registerMember, type TestMember } from '../support/members.js';

const householdSchema = JSON.parse(readFileSync('schemas/records/household.json', 'utf8'));
const classification = JSON.parse(readFileSync('schemas/records/classification.json', 'utf8')).household;

/** A small source a department invents on the day (no code change). */
const petSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  required: ['idNumber', 'name', 'species'],
  properties: {
    idNumber: { type: 'string', pattern: '^\\d{17}[\\dX]$' },
    name: { type: 'string', maxLength: 50 },
    species: { enum: ['dog', 'cat'] },
    chip: { type: 'string', pattern: '^[0-9]{15}$' },
  },
};
const petClassification = { idNumber: 'sensitive', name: 'internal', species: 'public', chip: 'internal' };

describe('registry', () => {
  let db: TestDatabase;
  let t: TestApp;
  let admin: TestMember;
  let dept: TestMember;
  let otherDept: TestMember;
  let consumer: TestMember;
  const sourceId = `pets-${Date.now().toString(36)}`;
  const matter = `pet-licence-${Date.now().toString(36)}`;

  const count = async (table: string, where = 'true') => Number((await db.ownerQuery(`SELECT count(*) FROM ${table} WHERE ${where}`)).rows[0].count);

  beforeAll(async () => {
    const keys = adminKeyFile();
    admin = keys.admin;
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath });
    t = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    dept = await registerMember(t, admin, 'department', 'zj.test.ganzhou');
    otherDept = await registerMember(t, admin, 'department', 'zj.test.other');
    consumer = await registerMember(t, admin, 'consumer', 'zj.test.hall');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('lists members for the admin, in id order, a page at a time, filtered by kind', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await t.http
        .get('/v1/members')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set('authorization', await admin.auth())
        .expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      ids.push(...page.body.items.map((m: { id: string }) => m.id));
      cursor = page.body.next;
    } while (cursor);
    // Every member once, in order, across the pages: the admin and the three registered above.
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['datarun.admin', dept.id, otherDept.id, consumer.id]));
    expect(ids).toHaveLength(Number((await db.ownerQuery('SELECT count(*) FROM member')).rows[0].count));

    const departments = await t.http
      .get('/v1/members')
      .query({ kind: 'department' })
      .set('authorization', await admin.auth())
      .expect(200);
    expect(departments.body.items.map((m: { id: string }) => m.id).sort()).toEqual([dept.id, otherDept.id].sort());
    expect(departments.body.items[0]).toMatchObject({ kind: 'department', jwks: { keys: [expect.objectContaining({ kid: expect.any(String) })] } });
    expect(departments.body.next).toBeUndefined();
  });

  it.each([
    [{ kind: 'citizen' }, 'kind must be one of'],
    [{ limit: '0' }, 'limit must be a whole number from 1 to 200'],
    [{ limit: 'many' }, 'limit must be a whole number'],
    [{ cursor: 'NOT A MEMBER ID' }, 'cursor must be the next value of a previous page'],
  ])('refuses a member listing with %p: 400 VALIDATION_FAILED', async (query, detail) => {
    const res = await t.http
      .get('/v1/members')
      .query(query)
      .set('authorization', await admin.auth())
      .expect(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining(detail) });
  });

  it('lists members for admins only: a department gets 403 ROLE_FORBIDDEN', async () => {
    const res = await t.http
      .get('/v1/members')
      .set('authorization', await dept.auth())
      .expect(403);
    expect(res.body.code).toBe('ROLE_FORBIDDEN');
  });

  it('plays the department story: source, records, grant request, approval, versions', async () => {
    // A department registers a new source with its schema.
    const created = await t.http
      .post('/v1/sources')
      .set('authorization', await dept.auth())
      .send({ id: sourceId, title: '犬只登记', schema: petSchema, subjectKey: 'idNumber', classification: petClassification, mode: 'replica' })
      .expect(201);
    expect(created.body).toMatchObject({ id: sourceId, owner: dept.id, currentVersion: 1, mode: 'replica' });

    // It pushes records; the one that breaks the schema is listed, the rest stored.
    const pushed = await t.http
      .put(`/v1/sources/${sourceId}/records`)
      .set('authorization', await dept.auth())
      .send({
        records: [
          { idNumber: '11010519491231002X', name: '旺财', species: 'dog' },
          { idNumber: '110105194912310029', name: '咪咪', species: 'lizard' },
          { idNumber: '440524188001010014', name: '小黑', species: 'cat', chip: '123456789012345' },
        ],
      })
      .expect(200);
    expect(pushed.body.stored).toBe(2);
    expect(pushed.body.rejected).toHaveLength(1);
    expect(pushed.body.rejected[0].index).toBe(1);
    expect(JSON.stringify(pushed.body.rejected[0].errors)).toContain('/species');
    expect(await count('source_record', `source_id = '${sourceId}'`)).toBe(2);

    // The admin registers a matter that needs the source; the consumer requests a grant for it.
    await t.http
      .post('/v1/matters')
      .set('authorization', await admin.auth())
      .send({ code: matter, title: '犬只许可', evidence: [sourceId], materials: ['application'], onComplete: [] })
      .expect(201);
    const validUntil = new Date(Date.now() + 30 * 86400_000).toISOString();
    const requested = await t.http
      .post('/v1/grants')
      .set('authorization', await consumer.auth())
      .send({ source: sourceId, fields: ['name', 'species'], verifyFields: ['chip'], purposes: [matter], validUntil, reason: '办理犬只许可' })
      .expect(201);
    expect(requested.body).toMatchObject({ state: 'requested', consumer: consumer.id, source: sourceId });
    const grantId = requested.body.id;

    // The department finds it in its queue; the other department does not.
    const queue = await t.http
      .get(`/v1/grants?state=requested`)
      .set('authorization', await dept.auth())
      .expect(200);
    expect(queue.body.items.map((g: { id: string }) => g.id)).toEqual([grantId]);
    const othersQueue = await t.http
      .get(`/v1/grants`)
      .set('authorization', await otherDept.auth())
      .expect(200);
    expect(othersQueue.body.items).toEqual([]);

    // Another department may not decide it, and nothing changes when it tries.
    const foreign = await t.http
      .post(`/v1/grants/${grantId}/approve`)
      .set('authorization', await otherDept.auth())
      .send({})
      .expect(403);
    expect(foreign.body.code).toBe('NOT_OWNER');
    // A consumer may not approve its own request.
    const self = await t.http
      .post(`/v1/grants/${grantId}/approve`)
      .set('authorization', await consumer.auth())
      .send({})
      .expect(403);
    expect(self.body.code).toBe('ROLE_FORBIDDEN');
    expect(await count('grant_decision')).toBe(0);

    const approved = await t.http
      .post(`/v1/grants/${grantId}/approve`)
      .set('authorization', await dept.auth('dept-clerk-7'))
      .send({ note: '同意' })
      .expect(200);
    expect(approved.body).toMatchObject({ state: 'approved', decidedBy: dept.id });
    expect(approved.body.decisions).toEqual([expect.objectContaining({ decision: 'approved', member: dept.id, actor: 'dept-clerk-7', note: '同意' })]);
    const twice = await t.http
      .post(`/v1/grants/${grantId}/approve`)
      .set('authorization', await dept.auth())
      .send({})
      .expect(409);
    expect(twice.body.code).toBe('STATE_CONFLICT');
    const mine = await t.http
      .get('/v1/grants')
      .set('authorization', await consumer.auth())
      .expect(200);
    expect(mine.body.items.map((g: { state: string }) => g.state)).toEqual(['approved']);

    // A compatible version: a new optional field and a relaxed length.
    const v2 = {
      ...petSchema,
      properties: { ...petSchema.properties, name: { type: 'string', maxLength: 100 }, colour: { type: 'string' } },
    };
    const published = await t.http
      .post(`/v1/sources/${sourceId}/versions`)
      .set('authorization', await dept.auth())
      .send({ schema: v2, classification: { ...petClassification, colour: 'public' } })
      .expect(201);
    expect(published.body.currentVersion).toBe(2);

    // An incompatible one: drops `species`, which the approved grant reads, and requires `chip`.
    const { species: _dropped, ...withoutSpecies } = v2.properties;
    const refused = await t.http
      .post(`/v1/sources/${sourceId}/versions`)
      .set('authorization', await dept.auth())
      .send({
        schema: { ...v2, required: ['idNumber', 'name', 'chip'], properties: withoutSpecies },
        classification: { idNumber: 'sensitive', name: 'internal', chip: 'internal', colour: 'public' },
      })
      .expect(400);
    expect(refused.body.code).toBe('SCHEMA_INCOMPATIBLE');
    const paths = refused.body.paths.map((p: { path: string }) => p.path).join(' ');
    expect(paths).toContain('species');
    expect(paths).toContain('required');
    expect(await count('source_version', `source_id = '${sourceId}'`)).toBe(2);

    // The catalogue shows versions, fields and classifications, never data.
    const catalog = await t.http
      .get('/v1/catalog')
      .set('authorization', await consumer.auth())
      .expect(200);
    const entry = catalog.body.items.find((s: { id: string }) => s.id === sourceId);
    expect(entry.versions).toHaveLength(2);
    expect(entry.versions[1].fields).toContainEqual({ name: 'colour', type: 'string', required: false, classification: 'public' });
    expect(JSON.stringify(catalog.body)).not.toContain('旺财');

    // Revocation ends the grant; only approved grants count afterwards.
    await t.http
      .post(`/v1/grants/${grantId}/revoke`)
      .set('authorization', await dept.auth())
      .send({})
      .expect(200);
    const after = await t.http
      .get(`/v1/grants/${grantId}`)
      .set('authorization', await consumer.auth())
      .expect(200);
    expect(after.body.state).toBe('revoked');
    expect(after.body.decisions.map((d: { decision: string }) => d.decision)).toEqual(['approved', 'revoked']);

    // Every change is in the audit log, with who made it and what it was about.
    const changes = (
      await db.ownerQuery(
        `SELECT action, member_id, actor, object_ref, decision FROM audit_event WHERE object_ref LIKE '%${sourceId}%' OR object_ref = 'grant:${grantId}' OR object_ref = 'matter:${matter}' ORDER BY seq`,
      )
    ).rows;
    // The refused decisions on the way are on the log too, as denied (docs/security.md): the other
    // department's and the second approval by the use case, the consumer's by the edge, which
    // refuses its role before reading the body and records the route it called.
    expect(changes.filter((c) => c.decision === 'denied').map((c) => c.action)).toEqual(['grant.approved', 'grant.approved']);
    const atTheEdge = await db.ownerQuery(`SELECT action, reason FROM audit_event WHERE member_id = $1 AND decision = 'denied'`, [consumer.id]);
    expect(atTheEdge.rows).toEqual([{ action: 'POST /v1/grants/:id/approve', reason: 'ROLE_FORBIDDEN' }]);
    expect(changes.filter((c) => c.decision === 'allowed').map((c) => c.action)).toEqual([
      'source.registered',
      'records.ingested',
      'matter.registered',
      'grant.requested',
      'grant.approved',
      'source.version-published',
      'grant.revoked',
    ]);
    expect(changes.find((c) => c.action === 'grant.approved' && c.decision === 'allowed')).toMatchObject({
      member_id: dept.id,
      actor: 'dept-clerk-7',
      object_ref: `grant:${grantId}`,
    });
  });

  it('registers the built-in household schema as an ordinary source', async () => {
    const id = `household-${Date.now().toString(36)}`;
    const res = await t.http
      .post('/v1/sources')
      .set('authorization', await dept.auth())
      .send({ id, title: '户籍', schema: householdSchema, subjectKey: 'idNumber', classification, mode: 'replica' })
      .expect(201);
    // jsonb keeps its own key order, so compare the sets of fields.
    expect(res.body.versions[0].fields.map((f: { name: string }) => f.name).sort()).toEqual(Object.keys(householdSchema.properties).sort());
  });

  describe('refuses, storing nothing', () => {
    const before: Record<string, number> = {};
    // A refusal's one trace may be its own denied audit record (docs/security.md): nothing else.
    const stored = (table: string) => count(table, table === 'audit_event' ? "decision <> 'denied'" : 'true');
    beforeEach(async () => {
      for (const table of ['member', 'recipient', 'source', 'source_version', 'source_record', 'access_grant', 'grant_decision', 'matter', 'audit_event'])
        before[table] = await stored(table);
    });
    afterEach(async () => {
      for (const table of Object.keys(before)) expect({ table, rows: await stored(table) }).toEqual({ table, rows: before[table] });
    });

    const source = (overrides: Record<string, unknown> = {}) => ({
      id: `x-${Math.random().toString(36).slice(2, 8)}`,
      title: 't',
      schema: petSchema,
      subjectKey: 'idNumber',
      classification: petClassification,
      mode: 'replica',
      ...overrides,
    });

    it('a consumer registering a source: 403 ROLE_FORBIDDEN', async () => {
      const res = await t.http
        .post('/v1/sources')
        .set('authorization', await consumer.auth())
        .send(source())
        .expect(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
    });

    it('a schema with a remote $ref: 400 SCHEMA_INVALID', async () => {
      const schema = { ...petSchema, properties: { ...petSchema.properties, chip: { $ref: 'https://evil.example/chip.json' } } };
      const res = await t.http
        .post('/v1/sources')
        .set('authorization', await dept.auth())
        .send(source({ schema }))
        .expect(400);
      expect(res.body.code).toBe('SCHEMA_INVALID');
      expect(res.body.detail).toMatch(/\$ref/);
    });

    it('a schema with a catastrophic pattern is compiled safely and still enforced linearly', async () => {
      // RE2 runs ^(a+)+$ in linear time; the source registers, and the pattern works on ingest.
      const schema = { ...petSchema, properties: { ...petSchema.properties, name: { type: 'string', pattern: '^(a+)+$' } } };
      const id = `evil-${Date.now().toString(36)}`;
      await t.http
        .post('/v1/sources')
        .set('authorization', await dept.auth())
        .send(source({ id, schema }))
        .expect(201);
      const res = await t.http
        .put(`/v1/sources/${id}/records`)
        .set('authorization', await dept.auth())
        .send({ records: [{ idNumber: '11010519491231002X', name: `${'a'.repeat(30000)}!`, species: 'dog' }] })
        .expect(200);
      expect(res.body).toMatchObject({ stored: 0, rejected: [{ index: 0 }] });
      // This test stores a source on purpose (and audits it, and the empty ingest); make the bookkeeping agree.
      before.source += 1;
      before.source_version += 1;
      before.audit_event += 1;
    });

    it('a pattern RE2 cannot run (backreference): 400 SCHEMA_INVALID', async () => {
      const schema = { ...petSchema, properties: { ...petSchema.properties, name: { type: 'string', pattern: '^(a)\\1$' } } };
      const res = await t.http
        .post('/v1/sources')
        .set('authorization', await dept.auth())
        .send(source({ schema }))
        .expect(400);
      expect(res.body.code).toBe('SCHEMA_INVALID');
    });

    it('a 10 MB body: 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await t.http
        .post('/v1/sources')
        .set('authorization', await dept.auth())
        .set('content-type', 'application/json')
        .send(JSON.stringify(source({ title: 'x'.repeat(10 * 1024 * 1024) })))
        .expect(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('a classification that misses a field: 400 VALIDATION_FAILED', async () => {
      const res = await t.http
        .post('/v1/sources')
        .set('authorization', await dept.auth())
        .send(source({ classification: { idNumber: 'sensitive' } }))
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.detail).toContain('species');
    });

    it('a department pushing records to another department’s source: 403 NOT_OWNER', async () => {
      const res = await t.http
        .put(`/v1/sources/${sourceId}/records`)
        .set('authorization', await otherDept.auth())
        .send({ records: [{ idNumber: '11010519491231002X', name: '冒名', species: 'dog' }] })
        .expect(403);
      expect(res.body.code).toBe('NOT_OWNER');
    });

    it('a malformed record batch: 400 VALIDATION_FAILED', async () => {
      const res = await t.http
        .put(`/v1/sources/${sourceId}/records`)
        .set('authorization', await dept.auth())
        .send({ records: 'nope' })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('an unknown source: 404 SOURCE_NOT_FOUND', async () => {
      const res = await t.http
        .put('/v1/sources/no-such-source/records')
        .set('authorization', await dept.auth())
        .send({ records: [{}] })
        .expect(404);
      expect(res.body.code).toBe('SOURCE_NOT_FOUND');
    });

    it('a grant for a field the source does not have: 400 VALIDATION_FAILED', async () => {
      const res = await t.http
        .post('/v1/grants')
        .set('authorization', await consumer.auth())
        .send({ source: sourceId, fields: ['salary'], purposes: [matter], validUntil: new Date(Date.now() + 86400_000).toISOString(), reason: 'r' })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('a member registered twice: 409 ALREADY_EXISTS', async () => {
      const res = await t.http
        .post('/v1/members')
        .set('authorization', await admin.auth())
        .send({
          id: dept.id,
          name: 'again',
          kind: 'department',
          jwks: {
            keys: [{ kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0', kid: 'k' }],
          },
        })
        .expect(409);
      expect(res.body.code).toBe('ALREADY_EXISTS');
    });

    it('a department registering a member: 403 ROLE_FORBIDDEN', async () => {
      const res = await t.http
        .post('/v1/members')
        .set('authorization', await dept.auth())
        .send({ id: 'zj.sneaky', name: 'x', kind: 'admin', jwks: { keys: [{ kty: 'EC' }] } })
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
    });

    it('a matter notifying a utility kind no member receives for: 404 RECIPIENT_NOT_FOUND', async () => {
      const res = await t.http
        .post('/v1/matters')
        .set('authorization', await admin.auth())
        .send({ code: `${matter}-water`, title: '犬只许可（供水）', evidence: [], materials: [], onComplete: [{ notify: 'water', request: 'discount' }] })
        .expect(404);
      expect(res.body).toMatchObject({ code: 'RECIPIENT_NOT_FOUND', detail: expect.stringContaining('water') });
    });

    it('a department setting where another member’s requests go: 403 ROLE_FORBIDDEN', async () => {
      const res = await t.http
        .put(`/v1/members/${otherDept.id}/recipient`)
        .set('authorization', await dept.auth())
        .send({ delivery: 'kafka', requests: ['benefit'] })
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
    });

    it('no token: 401 TOKEN_MISSING', async () => {
      const res = await t.http.get('/v1/catalog').expect(401);
      expect(res.body.code).toBe('TOKEN_MISSING');
    });
  });
});
