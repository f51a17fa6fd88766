// The seed story (我结婚证忘记带了，还能不能办理?) and the lookup refusals, through HTTP on the real database.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkDigitOf } from '@datarun/identity';
import { buildCity, type City, MATTER, schemaOf } from '../support/exchange.js';

describe('lookups, verifications and evidence bundles', () => {
  let city: City;
  let caseId: string;
  let seller: City['people'][number];
  let buyer: City['people'][number];
  let stranger: City['people'][number];

  const openCase = async (parties = [seller, buyer], member = city.hall) =>
    (
      await city.gateway.http
        .post('/v1/cases')
        .set('authorization', await member.auth('clerk-7'))
        .send({ matter: MATTER, parties: parties.map((p, i) => ({ idNumber: p.idNumber, name: p.name, role: i === 0 ? 'seller' : 'buyer' })), materials: [] })
        .expect(201)
    ).body.id as string;
  /** A lookup as `member`; with `status`, supertest checks it (showing the body when it differs). */
  const lookup = async (body: Record<string, unknown>, member = city.hall, status?: number) => {
    const request = city.gateway.http
      .post('/v1/lookups')
      .set('authorization', await member.auth('clerk-7'))
      .send({ source: 'marriage', subject: { idNumber: buyer.idNumber }, purpose: MATTER, caseId, ...body });
    return status === undefined ? request : request.expect(status);
  };

  // A federated department of the tests' own, on loopback: the egress allowlist names its port.
  let mode: 'slow' | 'broken' = 'slow';
  const department = http.createServer((req, res) => {
    if (mode === 'slow') {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'), 5000).unref();
      return;
    }
    // A record that breaks the schema: maritalStatus outside its enum.
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ idNumber: buyer.idNumber, name: '李四', maritalStatus: 'complicated' }));
  });

  beforeAll(async () => {
    await new Promise<void>((r) => department.listen(0, '127.0.0.1', r));
    city = await buildCity(300, { EGRESS_ALLOWLIST: `127.0.0.1:${(department.address() as AddressInfo).port}` });
    seller = city.people.find((p) => p.propertyUnits.length > 0)!;
    buyer = city.people.find((p) => p.spouseIdNumber && p.idNumber !== seller.idNumber && p.spouseIdNumber !== seller.idNumber)!;
    stranger = city.people.find((p) => ![seller.idNumber, buyer.idNumber].includes(p.idNumber))!;
    caseId = await openCase();
  }, 60_000);
  afterAll(async () => {
    await city?.close();
    department.closeAllConnections();
    await new Promise((r) => department.close(r));
  });

  it('answers each of many lookups at once with its own case and record, though one statement reads them together', async () => {
    const buyers = city.people.filter((p) => p.idNumber !== seller.idNumber).slice(0, 24);
    const cases = await Promise.all(buyers.map((p) => openCase([seller, p])));
    const answers = await Promise.all(
      buyers.map(async (person, i) => {
        // Every third asks under the next person's case, where this person is no party.
        const foreign = i % 3 === 2;
        const res = await lookup({ source: 'household', subject: { idNumber: person.idNumber }, caseId: cases[foreign ? (i + 1) % cases.length : i] });
        return { person, foreign, status: res.status, body: res.body as { code?: string; data?: { name: string } } };
      }),
    );
    for (const { person, foreign, status, body } of answers) {
      if (foreign) expect([person.name, status, body.code]).toEqual([person.name, 403, 'SUBJECT_NOT_IN_CASE']);
      else expect([person.name, status, body.data?.name]).toEqual([person.name, 200, person.name]);
    }
  });

  it('plays the seed story: bundle, verification, a refused stranger, all audited', async () => {
    const before = (await city.auditRows()).length;

    // The clerk pulls property, household and marriage evidence for both parties in one bundle.
    const bundle = await city.gateway.http
      .post('/v1/evidence-bundles')
      .set('authorization', await city.hall.auth('clerk-7'))
      .send({ caseId })
      .expect(200);
    expect(bundle.body.items).toHaveLength(6);
    const item = (source: string, role: string) => bundle.body.items.find((i: { source: string; role: string }) => i.source === source && i.role === role);
    expect(item('property', 'seller').result.data.properties.map((p: { unitNumber: string }) => p.unitNumber)).toEqual(seller.propertyUnits);
    expect(item('marriage', 'buyer').result.data.maritalStatus).toBe('married');
    // Another person's ID number is masked: the grant does not unmask spouseIdNumber.
    expect(item('marriage', 'buyer').result.data.spouseIdNumber).toBe(`${buyer.spouseIdNumber!.slice(0, 6)}********${buyer.spouseIdNumber!.slice(14)}`);
    expect(JSON.stringify(bundle.body)).not.toContain(buyer.spouseIdNumber);
    expect(item('household', 'buyer').result.provenance).toMatchObject({ source: 'household', owner: city.departments.household.id, schemaVersion: 1 });
    expect(item('household', 'buyer').result.provenance.asOf).toBeDefined();
    // Only granted fields: the household grant does not name birthDate.
    expect(item('household', 'buyer').result.data).not.toHaveProperty('birthDate');

    // 核验: the buyer is married to their spouse, and not to the seller; no record field leaves.
    const yes = await city.gateway.http
      .post('/v1/verifications')
      .set('authorization', await city.hall.auth('clerk-7'))
      .send({
        source: 'marriage',
        subject: { idNumber: buyer.idNumber },
        purpose: MATTER,
        caseId,
        claims: { maritalStatus: 'married', spouseIdNumber: buyer.spouseIdNumber },
      })
      .expect(200);
    expect(Object.keys(yes.body).sort()).toEqual(['auditId', 'match']);
    expect(yes.body.match).toBe(true);
    const no = await city.gateway.http
      .post('/v1/verifications')
      .set('authorization', await city.hall.auth('clerk-7'))
      .send({
        source: 'marriage',
        subject: { idNumber: buyer.idNumber },
        purpose: MATTER,
        caseId,
        claims: { maritalStatus: 'married', spouseIdNumber: seller.idNumber },
      })
      .expect(200);
    expect(no.body.match).toBe(false);

    // A stranger is refused, and the refusal is audited too.
    const refused = await lookup({ subject: { idNumber: stranger.idNumber } }, city.hall, 403);
    expect(refused.body.code).toBe('SUBJECT_NOT_IN_CASE');

    const rows = (await city.auditRows()).slice(before);
    expect(rows.map((r) => r.action)).toEqual([...Array(6).fill('bundle-item'), 'verify', 'verify', 'lookup']);
    expect(rows.slice(0, 6).every((r) => r.decision === 'allowed' && r.case_id === caseId && r.member_id === city.hall.id && r.actor === 'clerk-7')).toBe(true);
    expect(rows[8]).toMatchObject({ decision: 'denied', reason: 'SUBJECT_NOT_IN_CASE', id: refused.body.auditId });
    expect(rows.map((r) => r.id)).toContain(yes.body.auditId);
    // Subjects are pseudonymised: no clear ID number is stored.
    expect(JSON.stringify(rows)).not.toContain(buyer.idNumber);
  });

  describe('refusals: status, code, no record field, audited', () => {
    const expectRefusal = async (res: { status: number; body: Record<string, unknown> }, status: number, code: string) => {
      expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
      expect(res.body).not.toHaveProperty('data');
      expect(JSON.stringify(res.body)).not.toMatch(/maritalStatus|spouseName|"married"/);
      expect(typeof res.body.auditId).toBe('string');
      const [row] = await city.auditRows(`id = '${res.body.auditId}'`);
      expect(row).toMatchObject({ reason: code, member_id: expect.any(String) });
      expect(['denied', 'failed']).toContain(row.decision);
    };

    it('an ID number with a wrong check digit: 400 ID_NUMBER_INVALID', async () => {
      const bad = buyer.idNumber.slice(0, 17) + (checkDigitOf(buyer.idNumber.slice(0, 17)) === '1' ? '2' : '1');
      await expectRefusal(await lookup({ subject: { idNumber: bad } }), 400, 'ID_NUMBER_INVALID');
    });

    it("another member's case: 404 CASE_NOT_FOUND", async () => {
      await expectRefusal(await lookup({}, city.otherHall), 404, 'CASE_NOT_FOUND');
    });

    it('a closed case: 403 CASE_NOT_OPEN', async () => {
      const closed = await openCase();
      await city.gateway.http
        .post(`/v1/cases/${closed}/withdraw`)
        .set('authorization', await city.hall.auth())
        .expect(200);
      await expectRefusal(await lookup({ caseId: closed }), 403, 'CASE_NOT_OPEN');
    });

    it('a purpose outside the grant: 403 PURPOSE_NOT_GRANTED', async () => {
      await expectRefusal(await lookup({ purpose: 'marriage-registration' }), 403, 'PURPOSE_NOT_GRANTED');
    });

    it('a field outside the grant: 403 FIELD_NOT_GRANTED', async () => {
      await expectRefusal(await lookup({ fields: ['maritalStatus', 'certificateNumber'] }), 403, 'FIELD_NOT_GRANTED');
    });

    it('a verify-only field read as data: 403 FIELD_NOT_GRANTED', async () => {
      await expectRefusal(await lookup({ fields: ['registrationDate'] }), 403, 'FIELD_NOT_GRANTED');
    });

    it('an unknown source: 404 SOURCE_NOT_FOUND', async () => {
      await expectRefusal(await lookup({ source: 'tax' }), 404, 'SOURCE_NOT_FOUND');
    });

    it('a revoked grant: 403 GRANT_MISSING', async () => {
      await city.registry.http
        .post(`/v1/grants/${city.grants.household}/revoke`)
        .set('authorization', await city.departments.household.auth())
        .send({})
        .expect(200);
      await expectRefusal(await lookup({ source: 'household' }), 403, 'GRANT_MISSING');
    });

    it('an expired grant: 403 GRANT_MISSING', async () => {
      await city.db.ownerQuery(`UPDATE access_grant SET valid_until = now() - interval '1 minute' WHERE id = $1`, [city.grants.property]);
      await expectRefusal(await lookup({ source: 'property', subject: { idNumber: seller.idNumber } }), 403, 'GRANT_MISSING');
    });

    it('a 1 MB body: 413 PAYLOAD_TOO_LARGE, nothing audited as data', async () => {
      const res = await city.gateway.http
        .post('/v1/lookups')
        .set('authorization', await city.hall.auth())
        .set('content-type', 'application/json')
        .send(JSON.stringify({ source: 'marriage', subject: { idNumber: buyer.idNumber }, purpose: MATTER, caseId, pad: 'x'.repeat(1024 * 1024) }))
        .expect(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('federated departments', () => {
    beforeAll(async () => {
      const endpoint = `http://127.0.0.1:${(department.address() as AddressInfo).port}`;
      const dept = city.departments.marriage;
      for (const id of ['marriage-live']) {
        await city.registry.http
          .post('/v1/sources')
          .set('authorization', await dept.auth())
          .send({
            id,
            title: '婚姻（实时）',
            schema: schemaOf('marriage'),
            subjectKey: 'idNumber',
            classification: JSON.parse((await import('node:fs')).readFileSync('schemas/records/classification.json', 'utf8')).marriage,
            mode: 'federated',
            endpoint,
          })
          .expect(201);
        const g = await city.registry.http
          .post('/v1/grants')
          .set('authorization', await city.hall.auth())
          .send({ source: id, fields: ['maritalStatus'], purposes: [MATTER], validUntil: new Date(Date.now() + 86400_000).toISOString(), reason: 'r' })
          .expect(201);
        await city.registry.http
          .post(`/v1/grants/${g.body.id}/approve`)
          .set('authorization', await dept.auth())
          .send({})
          .expect(200);
      }
    });
    it('a department that does not answer in time: 504 SOURCE_TIMEOUT, audited as failed', async () => {
      mode = 'slow';
      const res = await lookup({ source: 'marriage-live' }, city.hall, 504);
      expect(res.body.code).toBe('SOURCE_TIMEOUT');
      const [row] = await city.auditRows(`id = '${res.body.auditId}'`);
      expect(row).toMatchObject({ decision: 'failed', reason: 'SOURCE_TIMEOUT' });
    }, 20_000);

    it('a federated answer that breaks the schema: 502 SOURCE_RESPONSE_INVALID, nothing of it shown', async () => {
      mode = 'broken';
      const res = await lookup({ source: 'marriage-live' }, city.hall, 502);
      expect(res.body.code).toBe('SOURCE_RESPONSE_INVALID');
      expect(JSON.stringify(res.body)).not.toContain('complicated');
    });
  });

  it('shows another person’s ID number in full only under a grant that unmasks it', async () => {
    const dept = city.departments.marriage;
    const g = await city.registry.http
      .post('/v1/grants')
      .set('authorization', await city.hall.auth())
      .send({
        source: 'marriage',
        fields: ['spouseIdNumber'],
        unmaskedFields: ['spouseIdNumber'],
        purposes: [MATTER],
        validUntil: new Date(Date.now() + 86400_000).toISOString(),
        reason: '核对配偶身份',
      })
      .expect(201);
    expect(g.body.unmaskedFields).toEqual(['spouseIdNumber']);
    const masked = await lookup({ fields: ['spouseIdNumber'] }, city.hall, 200);
    expect(masked.body.data.spouseIdNumber).not.toBe(buyer.spouseIdNumber); // requested, not yet approved
    await city.registry.http
      .post(`/v1/grants/${g.body.id}/approve`)
      .set('authorization', await dept.auth())
      .send({})
      .expect(200);
    const full = await lookup({ fields: ['spouseIdNumber'] }, city.hall, 200);
    expect(full.body.data.spouseIdNumber).toBe(buyer.spouseIdNumber);
    const refused = await city.registry.http
      .post('/v1/grants')
      .set('authorization', await city.hall.auth())
      .send({
        source: 'marriage',
        fields: ['name'],
        unmaskedFields: ['spouseIdNumber'],
        purposes: [MATTER],
        validUntil: new Date(Date.now() + 86400_000).toISOString(),
        reason: 'r',
      })
      .expect(400);
    expect(refused.body.code).toBe('VALIDATION_FAILED');
  });

  it('fails closed when the audit log cannot be written, and recovers by itself', async () => {
    const role = city.db.config.database.appRole;
    await city.db.ownerQuery(`REVOKE INSERT ON audit_event FROM ${role}`);
    try {
      const res = await lookup({}, city.hall, 503);
      expect(res.body.code).toBe('AUDIT_UNAVAILABLE');
      expect(res.body).not.toHaveProperty('data');
      expect(JSON.stringify(res.body)).not.toContain('married');
    } finally {
      await city.db.ownerQuery(`GRANT INSERT ON audit_event TO ${role}`);
    }
    const ok = await lookup({}, city.hall, 200);
    expect(ok.body.data.maritalStatus).toBe('married');
  });
});
