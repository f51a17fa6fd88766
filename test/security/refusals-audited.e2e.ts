// Hardening item 6: every refusal about a person is audited. Before, a refused evidence bundle
// (another member's case), a refused grant decision, key change, registration or record push left
// no trace, and neither did an admin reading dead letters (whole messages, names and ID numbers
// in them) nor an auditor searching or exporting the log. Each refusal here must leave exactly one
// denied record, found by the refused request's own correlation id, naming the refused caller and
// never the refused body; each such read leaves one record naming its filter.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publicJwkOf } from '@datarun/auth';
import type { Response } from 'supertest';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { buildCity, type City, MATTER, schemaOf } from '../support/exchange.js';
import { caseOfOneParty } from '../support/federated.js';
import { uniqueName } from '../support/infra.js';
import { keyPair, registerMember, type TestMember } from '../support/members.js';

/** Text that only the refused bodies carry: it must never reach an audit record. */
const MARKER = 'REFUSED-BODY-7f3a';

describe('refusals about people are audited', () => {
  let city: City;
  let audit: TestApp;
  let relay: TestApp;
  let auditor: TestMember;
  let caseId: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datarun-refusals-'));
    const auditKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'audit.key.pem'), auditKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    city = await buildCity(20, {
      DATARUN_AUDIT_SIGNING_KEY: join(dir, 'audit.key.pem'),
      DATARUN_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.ndjson'),
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
    });
    audit = await bootApp(AuditAppModule.forRoot(city.db.config), 'audit');
    relay = await bootApp(RelayModule.forRoot(city.db.config), 'relay');
    auditor = await registerMember(city.registry, city.admin, 'auditor', 'zj.test.jiwei');
    ({ caseId } = await caseOfOneParty(city));
  }, 120_000);
  afterAll(async () => {
    await relay?.close();
    await audit?.close();
    await city?.close();
  });

  /** The audit records the request of this answer wrote (its correlation id is in the problem body or the header). */
  const recordsOf = (res: Response) => {
    const correlationId = (res.body as { correlationId?: string }).correlationId ?? res.headers['x-request-id'];
    expect(correlationId).toEqual(expect.any(String));
    return city.auditRows(`correlation_id = '${String(correlationId).replaceAll("'", "''")}'`);
  };

  /** Exactly one record: denied, the refused caller, the refusal's code, nothing of the body. */
  const expectOneRefusal = async (res: Response, caller: TestMember, actor: string, code: string, about: Record<string, unknown> = {}) => {
    expect(res.body.code).toBe(code);
    const rows = await recordsOf(res);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ decision: 'denied', member_id: caller.id, actor, reason: code, ...about });
    expect(JSON.stringify(rows[0])).not.toContain(MARKER);
    expect((rows[0].canonical as Buffer).toString('utf8')).not.toContain(MARKER);
    if (res.body.auditId !== undefined) expect(res.body.auditId).toBe(rows[0].id);
    return rows[0];
  };

  it("a refused evidence bundle (another member's case): one denied `bundle`, with the case, and no item looked up", async () => {
    const res = await city.gateway.http
      .post('/v1/evidence-bundles')
      .set('authorization', await city.otherHall.auth('clerk-x'))
      .send({ caseId })
      .expect(404);
    await expectOneRefusal(res, city.otherHall, 'clerk-x', 'CASE_NOT_FOUND', { action: 'bundle', case_id: caseId });
  });

  it.each([
    ['reading it', 'get', '', 'case.read'],
    ['completing it', 'post', '/complete', 'case.completed'],
    ['withdrawing it', 'post', '/withdraw', 'case.withdrawn'],
  ] as const)(
    "another member's case (its parties' names and ID numbers), %s: 404 CASE_NOT_FOUND, one denied record with the case",
    async (_, method, path, action) => {
      const res = await city.gateway.http[method](`/v1/cases/${caseId}${path}`)
        .set('authorization', await city.otherHall.auth('clerk-x'))
        .expect(404);
      await expectOneRefusal(res, city.otherHall, 'clerk-x', 'CASE_NOT_FOUND', { action, case_id: caseId });
      // Nothing changed: the owner still sees its case open.
      const own = await city.gateway.http
        .get(`/v1/cases/${caseId}`)
        .set('authorization', await city.hall.auth())
        .expect(200);
      expect(own.body.state).toBe('open');
    },
  );

  it("uploading a material to another member's case: 404 CASE_NOT_FOUND, one denied record, nothing stored", async () => {
    const res = await city.gateway.http
      .put(`/v1/cases/${caseId}/materials/property-certificate`)
      .set('authorization', await city.otherHall.auth('clerk-x'))
      .set('content-type', 'application/pdf')
      .send(Buffer.from(`%PDF-1.7 ${MARKER}`))
      .expect(404);
    await expectOneRefusal(res, city.otherHall, 'clerk-x', 'CASE_NOT_FOUND', { action: 'material.uploaded', case_id: caseId });
    expect((await city.db.ownerQuery('SELECT count(*)::int AS n FROM case_material WHERE case_id = $1', [caseId])).rows[0].n).toBe(0);
  });

  describe('registry changes', () => {
    let pendingGrant: string;

    beforeAll(async () => {
      pendingGrant = (
        await city.registry.http
          .post('/v1/grants')
          .set('authorization', await city.otherHall.auth())
          .send({ source: 'household', fields: ['name'], purposes: [MATTER], validUntil: new Date(Date.now() + 86400_000).toISOString(), reason: '核验' })
          .expect(201)
      ).body.id as string;
    });

    it('a grant decision by a department that does not own the source: 403 NOT_OWNER, audited without the note, the grant unchanged', async () => {
      const res = await city.registry.http
        .post(`/v1/grants/${pendingGrant}/approve`)
        .set('authorization', await city.departments.marriage.auth('officer-2'))
        .send({ note: MARKER })
        .expect(403);
      await expectOneRefusal(res, city.departments.marriage, 'officer-2', 'NOT_OWNER', { action: 'grant.approved', object_ref: `grant:${pendingGrant}` });
      const grant = await city.registry.http
        .get(`/v1/grants/${pendingGrant}`)
        .set('authorization', await city.admin.auth())
        .expect(200);
      expect(grant.body).toMatchObject({ state: 'requested', decisions: [] });
    });

    it('a grant decision from the wrong state by the owner: 409 STATE_CONFLICT, audited', async () => {
      const res = await city.registry.http
        .post(`/v1/grants/${pendingGrant}/revoke`)
        .set('authorization', await city.departments.household.auth('officer-3'))
        .send({ note: MARKER })
        .expect(409);
      await expectOneRefusal(res, city.departments.household, 'officer-3', 'STATE_CONFLICT', { action: 'grant.revoked', object_ref: `grant:${pendingGrant}` });
    });

    it("a change of another member's keys: 403 ROLE_FORBIDDEN, audited without the keys, the keys unchanged", async () => {
      const before = await city.db.ownerQuery('SELECT jwks FROM member WHERE id = $1', [city.otherHall.id]);
      const res = await city.registry.http
        .put(`/v1/members/${city.otherHall.id}/keys`)
        .set('authorization', await city.hall.auth('clerk-4'))
        .send({ keys: [publicJwkOf(keyPair().publicKey, MARKER)] })
        .expect(403);
      await expectOneRefusal(res, city.hall, 'clerk-4', 'ROLE_FORBIDDEN', { object_ref: `member:${city.otherHall.id}` });
      expect((await city.db.ownerQuery('SELECT jwks FROM member WHERE id = $1', [city.otherHall.id])).rows).toEqual(before.rows);
    });

    it('removing a key the member does not have: 404 KEY_NOT_FOUND, audited', async () => {
      const res = await city.registry.http
        .delete(`/v1/members/${city.hall.id}/keys/${MARKER}`)
        .set('authorization', await city.hall.auth('clerk-5'))
        .expect(404);
      const row = await expectOneRefusal(res, city.hall, 'clerk-5', 'KEY_NOT_FOUND', { action: 'member.key-removed', object_ref: `member:${city.hall.id}` });
      expect(row.reason).toBe('KEY_NOT_FOUND');
    });

    it('a member registration by a non-admin: 403 ROLE_FORBIDDEN, audited, no member stored', async () => {
      const id = uniqueName('zj.test.rogue').replaceAll('_', '-').toLowerCase();
      const res = await city.registry.http
        .post('/v1/members')
        .set('authorization', await city.hall.auth('clerk-6'))
        .send({ id, name: MARKER, kind: 'admin', jwks: { keys: [publicJwkOf(keyPair().publicKey, MARKER)] } })
        .expect(403);
      await expectOneRefusal(res, city.hall, 'clerk-6', 'ROLE_FORBIDDEN');
      expect((await city.db.ownerQuery('SELECT id FROM member WHERE id = $1', [id])).rows).toEqual([]);
    });

    it('a source registration by a non-department: 403 ROLE_FORBIDDEN, audited, no source stored', async () => {
      const res = await city.registry.http
        .post('/v1/sources')
        .set('authorization', await city.hall.auth('clerk-7'))
        .send({ id: 'rogue-source', title: MARKER, schema: schemaOf('household'), subjectKey: 'idNumber', classification: {}, mode: 'replica' })
        .expect(403);
      await expectOneRefusal(res, city.hall, 'clerk-7', 'ROLE_FORBIDDEN');
      expect((await city.db.ownerQuery(`SELECT id FROM source WHERE id = 'rogue-source'`)).rows).toEqual([]);
    });

    it("records pushed into another department's source: 403 NOT_OWNER, audited without the records, none stored", async () => {
      const person = city.people[3];
      const count = async () => Number((await city.db.ownerQuery(`SELECT count(*) FROM source_record WHERE source_id = 'household'`)).rows[0].count);
      const before = await count();
      const res = await city.registry.http
        .put('/v1/sources/household/records')
        .set('authorization', await city.departments.marriage.auth('officer-8'))
        .send({ records: [{ idNumber: person.idNumber, name: MARKER }] })
        .expect(403);
      await expectOneRefusal(res, city.departments.marriage, 'officer-8', 'NOT_OWNER', { action: 'records.ingested', object_ref: 'source:household' });
      expect(await count()).toBe(before);
    });
  });

  it('an admin read of dead letters: one record for the page, naming the filter; a read that shows none, none', async () => {
    const topic = uniqueName('datarun.test.refusals').replaceAll('_', '-');
    for (const n of [1, 2]) {
      await city.db.ownerQuery(
        `INSERT INTO dead_letter (id, dlq_partition, dlq_offset, topic, message_key, value, headers, reason, dead_lettered_by, dead_lettered_at)
         VALUES ($1, 0, $2, $3, 'unit-1', $4, '{}', 'not JSON', 'relay', now())`,
        [randomUUID(), Math.floor(Math.random() * 1e9) + n, topic, Buffer.from(JSON.stringify({ name: '张三', idNumber: city.people[0].idNumber }))],
      );
    }
    const read = await relay.http
      .get('/v1/ops/dead-letters')
      .query({ topic })
      .set('authorization', await city.admin.auth('ops-1'))
      .expect(200);
    expect(read.body.items).toHaveLength(2);
    const rows = await recordsOf(read);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'dead-letters.read', decision: 'allowed', member_id: city.admin.id, actor: 'ops-1' });
    expect(rows[0].reason).toContain(`topic=${topic}`);
    expect(rows[0].reason).toContain('returned=2');
    expect(rows[0].reason).not.toContain(city.people[0].idNumber);

    const none = await relay.http
      .get('/v1/ops/dead-letters')
      .query({ topic: `${topic}-none` })
      .set('authorization', await city.admin.auth('ops-1'))
      .expect(200);
    expect(none.body.items).toEqual([]);
    expect(await recordsOf(none)).toEqual([]);
  });

  it("an auditor's search, export and anomaly report: one record each, the filter minimal (the person only as a pseudonym), not found by the same search", async () => {
    const person = city.people[0];
    const search = async () =>
      audit.http
        .get('/v1/audit/events')
        .query({ subject: person.idNumber, decision: 'allowed' })
        .set('authorization', await auditor.auth('auditor-1'))
        .expect(200);
    const first = await search();
    const searched = await recordsOf(first);
    expect(searched).toHaveLength(1);
    expect(searched[0]).toMatchObject({ action: 'audit.searched', decision: 'allowed', member_id: auditor.id, actor: 'auditor-1', subject_hash: null });
    expect(searched[0].reason).toMatch(/subject=pseudonym:[\w-]+/);
    expect(searched[0].reason).toContain('decision="allowed"');
    expect(JSON.stringify(searched[0])).not.toContain(person.idNumber);
    // Searching again finds what happened to the person, not the auditor's own searches.
    const second = await search();
    expect(second.body.items).toEqual(first.body.items);

    const exported = await audit.http
      .get('/v1/audit/events')
      .query({ subject: person.idNumber, format: 'csv' })
      .set('authorization', await auditor.auth('auditor-1'))
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    const rows = await recordsOf(exported);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'audit.exported', member_id: auditor.id, actor: 'auditor-1' });
    expect(rows[0].reason).toContain('format=csv');
    expect(JSON.stringify(rows[0])).not.toContain(person.idNumber);

    const report = await audit.http
      .get('/v1/audit/reports/anomalies')
      .set('authorization', await auditor.auth('auditor-1'))
      .expect(200);
    const reported = await recordsOf(report);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ action: 'audit.anomalies-reported', member_id: auditor.id, actor: 'auditor-1' });
    expect(reported[0].reason).toContain(`from=${report.body.from} to=${report.body.to}`);
  });
});
