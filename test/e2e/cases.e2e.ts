// Cases through the gateway: opened by a consumer for a matter, visible only to it, withdrawn.
import { checkDigitOf } from '@datarun/identity';
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { adminKeyFile, registerMember, type TestMember } from '../support/members.js';

const id = (first17: string) => first17 + checkDigitOf(first17);
const SELLER = id('33082519800101123');
const BUYER = id('33080219900215234');
const SHA = 'a'.repeat(64);

describe('cases', () => {
  let db: TestDatabase;
  let registry: TestApp;
  let gateway: TestApp;
  let hall: TestMember;
  let otherHall: TestMember;
  let dept: TestMember;
  const matter = `sale-${Date.now().toString(36)}`;
  const cases = async () => Number((await db.ownerQuery('SELECT count(*) FROM service_case')).rows[0].count);
  const openBody = (overrides: Record<string, unknown> = {}) => ({
    matter,
    parties: [
      { idNumber: SELLER, name: '张三', role: 'seller' },
      { idNumber: BUYER, name: '李四', role: 'buyer' },
    ],
    property: { unitNumber: '330825001001GB00001F00010001', address: '衢州市龙游县龙洲街道 1 号' },
    utilityAccounts: { water: 'W-1001' },
    materials: [{ type: 'property-certificate', sha256: SHA }],
    ...overrides,
  });

  beforeAll(async () => {
    const keys = adminKeyFile();
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath });
    registry = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    gateway = await bootApp(GatewayModule.forRoot(db.config), 'gateway');
    hall = await registerMember(registry, keys.admin, 'consumer', 'zj.test.hall');
    otherHall = await registerMember(registry, keys.admin, 'consumer', 'zj.test.otherhall');
    dept = await registerMember(registry, keys.admin, 'department', 'zj.test.dept');
    await registry.http
      .post('/v1/matters')
      .set('authorization', await keys.admin.auth())
      .send({ code: matter, title: '二手房交易', evidence: [], materials: ['property-certificate', 'id-card'], onComplete: [] })
      .expect(201);
  });
  afterAll(async () => {
    await gateway?.close();
    await registry?.close();
    await db?.drop();
  });

  it('opens a case, shows it to its consumer only, and withdraws it once', async () => {
    const opened = await gateway.http
      .post('/v1/cases')
      .set('authorization', await hall.auth('clerk-9'))
      .send(openBody())
      .expect(201);
    expect(opened.body).toMatchObject({ matter, state: 'open', openedBy: 'clerk-9', transfers: [] });
    expect(opened.body.parties.map((p: { role: string }) => p.role)).toEqual(['seller', 'buyer']);
    const caseId = opened.body.id;

    await gateway.http
      .get(`/v1/cases/${caseId}`)
      .set('authorization', await hall.auth())
      .expect(200);
    // Another member's case answers exactly as a case that does not exist.
    const foreign = await gateway.http
      .get(`/v1/cases/${caseId}`)
      .set('authorization', await otherHall.auth())
      .expect(404);
    const missing = await gateway.http
      .get(`/v1/cases/00000000-0000-4000-8000-000000000000`)
      .set('authorization', await otherHall.auth())
      .expect(404);
    expect(foreign.body.code).toBe('CASE_NOT_FOUND');
    // Both refusals are audited (each names its own record), so the answers differ only in their ids.
    expect([foreign.body.auditId, missing.body.auditId]).toEqual([expect.any(String), expect.any(String)]);
    expect({ ...foreign.body, correlationId: 0, instance: 0, auditId: 0 }).toEqual({
      ...missing.body,
      correlationId: 0,
      instance: 0,
      auditId: 0,
      detail: foreign.body.detail,
    });
    await gateway.http
      .post(`/v1/cases/${caseId}/withdraw`)
      .set('authorization', await otherHall.auth())
      .expect(404);

    const withdrawn = await gateway.http
      .post(`/v1/cases/${caseId}/withdraw`)
      .set('authorization', await hall.auth())
      .expect(200);
    expect(withdrawn.body.state).toBe('withdrawn');
    expect(withdrawn.body.closedAt).toBeDefined();
    const again = await gateway.http
      .post(`/v1/cases/${caseId}/withdraw`)
      .set('authorization', await hall.auth())
      .expect(409);
    expect(again.body.code).toBe('STATE_CONFLICT');
  });

  describe('refuses, storing nothing', () => {
    let before: number;
    beforeEach(async () => {
      before = await cases();
    });
    afterEach(async () => {
      expect(await cases()).toBe(before);
    });

    it.each([
      ['a wrong check digit', `${BUYER.slice(0, 17)}${BUYER[17] === '1' ? '2' : '1'}`],
      ['a wrong length', BUYER.slice(0, 17)],
      ['an impossible birth date', id('33082519800230123')],
    ])('a party with %s: 400 ID_NUMBER_INVALID, without echoing the number', async (_, bad) => {
      const body = openBody({ parties: [{ idNumber: bad, name: '王五', role: 'buyer' }] });
      const res = await gateway.http
        .post('/v1/cases')
        .set('authorization', await hall.auth())
        .send(body)
        .expect(400);
      expect(res.body.code).toBe('ID_NUMBER_INVALID');
      expect(JSON.stringify(res.body)).not.toContain(bad);
    });

    it('an unknown matter: 404 MATTER_NOT_FOUND', async () => {
      const res = await gateway.http
        .post('/v1/cases')
        .set('authorization', await hall.auth())
        .send(openBody({ matter: 'no-such-matter' }))
        .expect(404);
      expect(res.body.code).toBe('MATTER_NOT_FOUND');
    });

    it('a material the matter does not collect: 400 VALIDATION_FAILED', async () => {
      const res = await gateway.http
        .post('/v1/cases')
        .set('authorization', await hall.auth())
        .send(openBody({ materials: [{ type: 'selfie', sha256: SHA }] }))
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });

    it('a department opening a case: 403 ROLE_FORBIDDEN', async () => {
      const res = await gateway.http
        .post('/v1/cases')
        .set('authorization', await dept.auth())
        .send(openBody())
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
    });

    it('a body over the gateway limit: 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await gateway.http
        .post('/v1/cases')
        .set('authorization', await hall.auth())
        .set('content-type', 'application/json')
        .send(JSON.stringify(openBody({ matter: 'x'.repeat(1024 * 1024) })))
        .expect(413);
      expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
    });
  });
});
