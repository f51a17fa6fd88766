// The case workflow through the gateway. 并联审批: a matter names approving departments; a case of
// it opens `approving` with every task at once; the departments decide in parallel from their
// queues; the case completes only once all approved (one after its time limit, flagged overdue);
// one rejection makes it `rejected`; every decision is audited with its task as the purpose.
// 容缺受理: a case opens without a deferrable material, which gets a due time, and cannot complete
// until it is uploaded (its upload is its declaration).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '@datarun/auth';
import { CaseSearch } from '@datarun/cases';
import { checkDigitOf, maskIdNumber } from '@datarun/identity';
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { adminKeyFile, registerMember, type TestMember } from '../support/members.js';

const id = (first17: string) => first17 + checkDigitOf(first17);
const SELLER = id('33082519800101123');
const BUYER = id('33080219900215234');
const TAX_RECEIPT = Buffer.from('%PDF-1.7 契税完税证明');
const NEIGHBOUR = id('33010219850312345');
const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const citizenAuth = async (idNumber: string) =>
  `Bearer ${await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: idNumber })}`;

interface Task {
  id: string;
  by: string;
  state: string;
  dueAt: string;
  overdue: boolean;
  caseId: string;
  caseState: string;
}

describe('the case workflow: parallel approvals (并联审批) and deferred materials (容缺受理)', () => {
  let db: TestDatabase;
  let registry: TestApp;
  let gateway: TestApp;
  let admin: TestMember;
  let hall: TestMember;
  let land: TestMember;
  let tax: TestMember;
  let housing: TestMember;
  let stranger: TestMember;
  const matter = `transfer-${Date.now().toString(36)}`;

  const open = async (buyer = { idNumber: BUYER, name: '李四' }) =>
    (
      await gateway.http
        .post('/v1/cases')
        .set('authorization', await hall.auth('clerk-7'))
        .send({
          matter,
          parties: [
            { idNumber: SELLER, name: '张三', role: 'seller' },
            { ...buyer, role: 'buyer' },
          ],
          materials: [],
        })
        .expect(201)
    ).body as { id: string; state: string; approvals: Task[]; createdAt: string };
  const caseOf = async (caseId: string) =>
    (
      await gateway.http
        .get(`/v1/cases/${caseId}`)
        .set('authorization', await hall.auth())
        .expect(200)
    ).body;
  const queue = async (member: TestMember, query = '') =>
    (
      await gateway.http
        .get(`/v1/approvals${query}`)
        .set('authorization', await member.auth('officer-1'))
        .expect(200)
    ).body as { items: Task[]; next?: string };
  const taskOf = (approvals: Task[], member: TestMember) => approvals.find((a) => a.by === member.id)!;
  const decide = async (member: TestMember, taskId: string, decision: 'approve' | 'reject', body?: object) =>
    gateway.http
      .post(`/v1/approvals/${taskId}/${decision}`)
      .set('authorization', await member.auth('officer-1'))
      .send(body);

  beforeAll(async () => {
    const keys = adminKeyFile();
    admin = keys.admin;
    const dir = mkdtempSync(join(tmpdir(), 'datarun-case-workflow-'));
    writeFileSync(join(dir, 'idp.pub.pem'), idp.publicKey.export({ type: 'spki', format: 'pem' }));
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath, DATARUN_CITIZEN_IDP_PUBLIC_KEY: join(dir, 'idp.pub.pem') });
    registry = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    gateway = await bootApp(GatewayModule.forRoot(db.config), 'gateway');
    hall = await registerMember(registry, admin, 'consumer', 'zj.test.hall');
    land = await registerMember(registry, admin, 'department', 'zj.test.budongchan');
    tax = await registerMember(registry, admin, 'department', 'zj.test.shuiwu');
    housing = await registerMember(registry, admin, 'department', 'zj.test.zhujian');
    stranger = await registerMember(registry, admin, 'department', 'zj.test.other');
    const registered = await registry.http
      .post('/v1/matters')
      .set('authorization', await admin.auth())
      .send({
        code: matter,
        title: '二手房转移登记',
        evidence: [],
        materials: ['property-certificate', { type: 'tax-receipt', deferrable: true, dueDays: 5 }],
        onComplete: [],
        approvals: [
          { by: land.id, timeLimitHours: 24 },
          { by: tax.id, timeLimitHours: 24 },
          { by: housing.id, timeLimitHours: 48 },
        ],
      })
      .expect(201);
    expect(registered.body).toMatchObject({ materials: ['property-certificate', 'tax-receipt'], deferrable: [{ type: 'tax-receipt', dueDays: 5 }] });
    expect(registered.body.approvals).toEqual([
      { by: land.id, timeLimitHours: 24 },
      { by: tax.id, timeLimitHours: 24 },
      { by: housing.id, timeLimitHours: 48 },
    ]);
  });
  afterAll(async () => {
    await gateway?.close();
    await registry?.close();
    await db?.drop();
  });

  it('opens every task at once and a deferred material due; refuses completion until all approve and the material arrives; flags the approval decided late', async () => {
    const opened = await open();
    expect(opened.state).toBe('approving');
    const deferred = (opened as unknown as { deferred: Array<{ type: string; dueAt: string; uploaded: boolean; overdue: boolean }> }).deferred;
    expect(deferred).toEqual([{ type: 'tax-receipt', dueAt: expect.any(String), uploaded: false, overdue: false }]);
    expect(Date.parse(deferred[0].dueAt) - Date.parse(opened.createdAt)).toBe(5 * 86_400_000);
    expect(opened.approvals.map((a) => [a.by, a.state, a.overdue])).toEqual(
      expect.arrayContaining([
        [land.id, 'pending', false],
        [tax.id, 'pending', false],
        [housing.id, 'pending', false],
      ]),
    );
    const createdAt = Date.parse(opened.createdAt);
    expect(Date.parse(taskOf(opened.approvals, housing).dueAt) - createdAt).toBe(48 * 3600_000);

    const refused = await gateway.http
      .post(`/v1/cases/${opened.id}/complete`)
      .set('authorization', await hall.auth())
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'APPROVAL_PENDING' });
    expect(refused.body.detail).toContain(land.id);
    expect((await caseOf(opened.id)).state).toBe('approving');
    expect(Number((await db.ownerQuery('SELECT count(*) FROM transfer_request WHERE case_id = $1', [opened.id])).rows[0].count)).toBe(0);

    // Each department sees its own task in its queue, with whose case it is (ID numbers masked).
    const landQueue = await queue(land, '?state=pending');
    const landTask = landQueue.items.find((t) => t.caseId === opened.id)!;
    expect(landTask).toMatchObject({ by: land.id, state: 'pending', caseState: 'approving', matter, consumer: hall.id });
    expect((landTask as unknown as { parties: unknown[] }).parties).toEqual([
      { name: '张三', role: 'seller', idNumberMasked: maskIdNumber(SELLER) },
      { name: '李四', role: 'buyer', idNumberMasked: maskIdNumber(BUYER) },
    ]);
    expect((await queue(stranger)).items).toEqual([]);

    // Two departments at the same moment: both decisions count, the case waits for the third.
    const [byLand, byTax] = await Promise.all([
      decide(land, landTask.id, 'approve'),
      decide(tax, taskOf(opened.approvals, tax).id, 'approve', { reason: '税款已缴清' }),
    ]);
    expect([byLand.status, byTax.status]).toEqual([200, 200]);
    expect((await caseOf(opened.id)).state).toBe('approving');

    // The housing bureau decides after its time limit (its due time moved into the past here).
    const housingTask = taskOf(opened.approvals, housing);
    await db.ownerQuery(`UPDATE case_approval SET due_at = now() - interval '1 hour' WHERE id = $1`, [housingTask.id]);
    expect((await queue(housing, '?state=pending')).items.find((t) => t.id === housingTask.id)?.overdue).toBe(true);
    const late = await decide(housing, housingTask.id, 'approve').then((r) => r.body as Task);
    expect(late).toMatchObject({ state: 'approved', overdue: true, caseState: 'open' });

    let ready = await caseOf(opened.id);
    expect(ready.state).toBe('open');
    expect(ready.approvals.map((a: Task) => [a.by, a.state, a.overdue])).toEqual(
      expect.arrayContaining([
        [land.id, 'approved', false],
        [tax.id, 'approved', false],
        [housing.id, 'approved', true],
      ]),
    );
    expect(taskOf(ready.approvals, tax)).toMatchObject({ reason: '税款已缴清' });

    // Approved, but the material it opened without has not come: refused, and nothing changes.
    const missing = await gateway.http
      .post(`/v1/cases/${opened.id}/complete`)
      .set('authorization', await hall.auth())
      .expect(409);
    expect(missing.body).toMatchObject({ code: 'MATERIAL_MISSING' });
    expect(missing.body.detail).toContain('tax-receipt');
    expect((await caseOf(opened.id)).state).toBe('open');
    // A material the matter does not defer cannot be uploaded undeclared.
    await gateway.http
      .put(`/v1/cases/${opened.id}/materials/property-certificate`)
      .set('authorization', await hall.auth())
      .set('content-type', 'application/pdf')
      .send(TAX_RECEIPT)
      .expect(404);
    const uploaded = await gateway.http
      .put(`/v1/cases/${opened.id}/materials/tax-receipt`)
      .set('authorization', await hall.auth())
      .set('content-type', 'application/pdf')
      .send(TAX_RECEIPT)
      .expect(200);
    const sha256 = createHash('sha256').update(TAX_RECEIPT).digest('hex');
    expect(uploaded.body).toMatchObject({ type: 'tax-receipt', sha256 });
    ready = await caseOf(opened.id);
    expect(ready.deferred).toEqual([{ type: 'tax-receipt', dueAt: deferred[0].dueAt, uploaded: true, overdue: false }]);
    expect(ready.materials).toEqual([{ type: 'tax-receipt', sha256, uploaded: true }]);
    // Its upload was its declaration: other bytes for it now are refused.
    await gateway.http
      .put(`/v1/cases/${opened.id}/materials/tax-receipt`)
      .set('authorization', await hall.auth())
      .set('content-type', 'application/pdf')
      .send(Buffer.from('%PDF-1.7 another receipt'))
      .expect(400);

    await gateway.http
      .post(`/v1/cases/${opened.id}/complete`)
      .set('authorization', await hall.auth())
      .expect(200);

    // Approving again changes nothing; rejecting an approved task is a conflict.
    expect((await decide(land, landTask.id, 'approve')).status).toBe(200);
    expect((await decide(land, landTask.id, 'reject', { reason: '改主意' })).body).toMatchObject({ code: 'STATE_CONFLICT' });

    // Every decision is audited by its department, with its task as the purpose.
    const decisions = await db.ownerQuery<{ member_id: string; actor: string; purpose: string; object_ref: string; reason: string | null }>(
      `SELECT member_id, actor, purpose, object_ref, reason FROM audit_event WHERE action = 'approval.approved' AND case_id = $1 AND decision = 'allowed' ORDER BY seq`,
      [opened.id],
    );
    expect(decisions.rows).toHaveLength(3);
    for (const row of decisions.rows) {
      expect(row.purpose).toBe(row.object_ref);
      expect(row.purpose).toMatch(/^approval:[0-9a-f-]{36}$/);
      expect(row.actor).toBe('officer-1');
    }
    expect(new Set(decisions.rows.map((r) => r.member_id))).toEqual(new Set([land.id, tax.id, housing.id]));
    const openedEvent = await db.ownerQuery<{ reason: string }>(`SELECT reason FROM audit_event WHERE action = 'case.opened' AND case_id = $1`, [opened.id]);
    expect(openedEvent.rows[0].reason).toBe(`approvals: ${land.id}, ${tax.id}, ${housing.id}; deferred: tax-receipt`);
  });

  it('a rejection, with its reason, makes the case rejected: it cannot complete and leaves the other queues', async () => {
    const opened = await open();
    const taxTask = taskOf(opened.approvals, tax);
    const noReason = await decide(tax, taxTask.id, 'reject', {});
    expect(noReason.status).toBe(400);
    expect(noReason.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await caseOf(opened.id)).state).toBe('approving');

    const rejected = await decide(tax, taxTask.id, 'reject', { reason: '契税未缴' });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ state: 'rejected', reason: '契税未缴', caseState: 'rejected' });
    const theCase = await caseOf(opened.id);
    expect(theCase).toMatchObject({ state: 'rejected', rejectionReason: `${tax.id}: 契税未缴` });
    expect(theCase.closedAt).toEqual(expect.any(String));

    const completion = await gateway.http
      .post(`/v1/cases/${opened.id}/complete`)
      .set('authorization', await hall.auth())
      .expect(409);
    expect(completion.body).toMatchObject({ code: 'STATE_CONFLICT' });
    // The land bureau's task needs nothing any more: out of its pending queue, and closed to decisions.
    const landTask = taskOf(opened.approvals, land);
    expect((await queue(land, '?state=pending')).items.map((t) => t.id)).not.toContain(landTask.id);
    expect((await decide(land, landTask.id, 'approve')).body).toMatchObject({ code: 'STATE_CONFLICT' });
    const audited = await db.ownerQuery<{ member_id: string; reason: string }>(
      `SELECT member_id, reason FROM audit_event WHERE action = 'approval.rejected' AND case_id = $1 AND decision = 'allowed'`,
      [opened.id],
    );
    expect(audited.rows).toEqual([{ member_id: tax.id, reason: '契税未缴' }]);
  });

  it("a task is its own department's: another department's attempt is APPROVAL_NOT_FOUND and audited, a hall's is ROLE_FORBIDDEN", async () => {
    const opened = await open();
    const landTask = taskOf(opened.approvals, land);
    const foreign = await decide(stranger, landTask.id, 'approve');
    const missing = await decide(stranger, '00000000-0000-4000-8000-000000000000', 'approve');
    expect([foreign.status, foreign.body.code, missing.status, missing.body.code]).toEqual([404, 'APPROVAL_NOT_FOUND', 404, 'APPROVAL_NOT_FOUND']);
    const denied = await db.ownerQuery(`SELECT 1 FROM audit_event WHERE member_id = $1 AND action = 'approval.approved' AND decision = 'denied'`, [
      stranger.id,
    ]);
    expect(denied.rows).toHaveLength(2);
    const byHall = await gateway.http
      .post(`/v1/approvals/${landTask.id}/approve`)
      .set('authorization', await hall.auth())
      .expect(403);
    expect(byHall.body.code).toBe('ROLE_FORBIDDEN');
    expect((await caseOf(opened.id)).approvals.every((a: Task) => a.state === 'pending')).toBe(true);
  });

  it('pages a department queue oldest due first, with a cursor', async () => {
    for (let i = 0; i < 3; i += 1) await open();
    const all = (await queue(housing, '?state=pending&limit=500')).items;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const first = await queue(housing, '?state=pending&limit=2');
    expect(first.items).toHaveLength(2);
    const rest = await queue(housing, `?state=pending&limit=500&cursor=${first.next}`);
    expect([...first.items, ...rest.items].map((t) => t.id)).toEqual(all.map((t) => t.id));
    const due = all.map((t) => Date.parse(t.dueAt));
    expect(due).toEqual([...due].sort((a, b) => a - b));
    const bad = await gateway.http
      .get('/v1/approvals?cursor=nonsense')
      .set('authorization', await housing.auth())
      .expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it('flags a deferred material overdue when it has not come by its due time', async () => {
    const opened = await open();
    await db.ownerQuery(`UPDATE service_case SET deferred = jsonb_build_array(jsonb_build_object('type', 'tax-receipt', 'dueAt', $2::text)) WHERE id = $1`, [
      opened.id,
      new Date(Date.now() - 60_000).toISOString(),
    ]);
    expect((await caseOf(opened.id)).deferred).toEqual([{ type: 'tax-receipt', dueAt: expect.any(String), uploaded: false, overdue: true }]);
  });

  it("finds the hall's cases by a party's ID number (audited against that person), state and lateness; the citizen sees theirs", async () => {
    const theirs = await open({ idNumber: NEIGHBOUR, name: '王五' });
    const list = async (query: string, member = hall) =>
      (
        await gateway.http
          .get(`/v1/cases${query}`)
          .set('authorization', await member.auth('clerk-7'))
          .expect(200)
      ).body as { items: Array<{ id: string; state: string; overdue: boolean; parties: Array<{ idNumber: string }> }>; next?: string };

    const byParty = await list(`?party=${NEIGHBOUR}`);
    expect(byParty.items.map((c) => c.id)).toEqual([theirs.id]);
    // A case from before parties were hashed is found once the gateway's start has hashed them.
    await db.ownerQuery('UPDATE service_case SET party_hashes = NULL WHERE id = $1', [theirs.id]);
    expect((await list(`?party=${NEIGHBOUR}`)).items).toEqual([]);
    await gateway.app.get(CaseSearch).onApplicationBootstrap();
    expect((await list(`?party=${NEIGHBOUR}`)).items.map((c) => c.id)).toEqual([theirs.id]);
    const searched = await db.ownerQuery<{ member_id: string; subject_hash: string | null; reason: string }>(
      `SELECT member_id, subject_hash, reason FROM audit_event WHERE action = 'case.searched' ORDER BY seq DESC LIMIT 1`,
    );
    expect(searched.rows[0]).toMatchObject({ member_id: hall.id, reason: '1 case(s) found by party' }); // the last of the three searches
    expect(searched.rows[0].subject_hash).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    // Never stored in clear: the rows hold the parties' keyed hashes, which are not the number.
    const hashes = await db.ownerQuery<{ party_hashes: string[] }>('SELECT party_hashes FROM service_case WHERE id = $1', [theirs.id]);
    expect(hashes.rows[0].party_hashes).toHaveLength(2);
    expect(hashes.rows[0].party_hashes.join(' ')).not.toContain(NEIGHBOUR);

    const bad = await gateway.http
      .get('/v1/cases?party=330102198513323456')
      .set('authorization', await hall.auth())
      .expect(400);
    expect(bad.body.code).toBe('ID_NUMBER_INVALID');
    // Another hall finds nothing of this hall's, even by the same person.
    const otherHall = await registerMember(registry, admin, 'consumer', 'zj.test.otherhall');
    expect((await list(`?party=${NEIGHBOUR}`, otherHall)).items).toEqual([]);

    const approving = await list('?state=approving&limit=500');
    expect(approving.items.length).toBeGreaterThan(1);
    expect(approving.items.every((c) => c.state === 'approving')).toBe(true);
    await db.ownerQuery(`UPDATE case_approval SET due_at = now() - interval '1 minute' WHERE case_id = $1 AND approver_id = $2`, [theirs.id, land.id]);
    const late = await list('?overdue=true&limit=500');
    expect(late.items.map((c) => c.id)).toContain(theirs.id);
    expect(late.items.every((c) => c.overdue)).toBe(true);
    expect((await list('?overdue=false&limit=500')).items.map((c) => c.id)).not.toContain(theirs.id);

    // Newest first, a page at a time.
    const all = await list('?limit=500');
    const first = await list('?limit=2');
    const second = await list(`?limit=2&cursor=${first.next}`);
    expect([...first.items, ...second.items].map((c) => c.id)).toEqual(all.items.slice(0, 4).map((c) => c.id));
    expect(all.items[0].id).toBe(theirs.id);

    // The citizen sees the case they are a party of, from their own token, every ID number masked.
    const mine = await gateway.http
      .get('/v1/me/cases')
      .set('authorization', await citizenAuth(NEIGHBOUR))
      .expect(200);
    expect(mine.body.items.map((c: { id: string }) => c.id)).toEqual([theirs.id]);
    expect(mine.body.items[0]).toMatchObject({
      matter,
      state: 'approving',
      hall: { id: hall.id },
      parties: [
        { name: '张三', role: 'seller', idNumberMasked: maskIdNumber(SELLER) },
        { name: '王五', role: 'buyer', idNumberMasked: maskIdNumber(NEIGHBOUR) },
      ],
      deferred: [{ type: 'tax-receipt', uploaded: false, overdue: false }],
      recipients: [],
    });
    expect(mine.body.items[0].approvals.map((a: Task) => a.by).sort()).toEqual([land.id, tax.id, housing.id].sort());
    expect(JSON.stringify(mine.body)).not.toContain(SELLER);
    // A member's token is not a citizen's.
    await gateway.http
      .get('/v1/me/cases')
      .set('authorization', await hall.auth())
      .expect(403);
  });

  it("counts a window's cases by matter, state and hour, with times to completion and overdue approvals (admins and auditors)", async () => {
    const quiet = `stats-${Date.now().toString(36)}`;
    await registry.http
      .post('/v1/matters')
      .set('authorization', await admin.auth())
      .send({ code: quiet, title: '统计', evidence: [], materials: [], onComplete: [] })
      .expect(201);
    const cases: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const opened = await gateway.http
        .post('/v1/cases')
        .set('authorization', await hall.auth())
        .send({ matter: quiet, parties: [{ idNumber: SELLER, name: '张三', role: 'seller' }], materials: [] })
        .expect(201);
      cases.push(opened.body.id);
    }
    for (const caseId of cases.slice(0, 2)) {
      await gateway.http
        .post(`/v1/cases/${caseId}/complete`)
        .set('authorization', await hall.auth())
        .expect(200);
    }
    await gateway.http
      .post(`/v1/cases/${cases[2]}/withdraw`)
      .set('authorization', await hall.auth())
      .expect(200);
    // Their times, set where the figures can be known: opened at 09:10, completed after one hour and after three.
    await db.ownerQuery(`UPDATE service_case SET created_at = '2026-01-05T09:10:00Z' WHERE id = ANY($1)`, [cases]);
    await db.ownerQuery(`UPDATE service_case SET closed_at = '2026-01-05T10:10:00Z' WHERE id = $1`, [cases[0]]);
    await db.ownerQuery(`UPDATE service_case SET closed_at = '2026-01-05T12:10:00Z' WHERE id = $1`, [cases[1]]);

    const auditor = await registerMember(registry, admin, 'auditor', 'zj.test.auditor');
    const stats = await gateway.http
      .get('/v1/stats/matters?from=2026-01-05T00:00:00Z&to=2026-01-06T00:00:00Z&bucket=hour')
      .set('authorization', await auditor.auth())
      .expect(200);
    expect(stats.body.matters).toEqual([
      {
        matter: quiet,
        opened: 3,
        byState: { open: 0, approving: 0, rejected: 0, completed: 2, withdrawn: 1 },
        completion: { count: 2, medianSeconds: 7200, p90Seconds: 10080 },
        overdueApprovals: 0,
      },
    ]);
    expect(stats.body.buckets).toEqual([
      { start: '2026-01-05T09:00:00.000Z', matter: quiet, opened: 3, completed: 0 },
      { start: '2026-01-05T10:00:00.000Z', matter: quiet, opened: 0, completed: 1 },
      { start: '2026-01-05T12:00:00.000Z', matter: quiet, opened: 0, completed: 1 },
    ]);

    // The approvals decided late and pending past due in the tests above, counted by the administrator's view of today.
    const today = await gateway.http
      .get('/v1/stats/matters')
      .set('authorization', await admin.auth())
      .expect(200);
    const transfers = today.body.matters.find((m: { matter: string }) => m.matter === matter);
    expect(transfers.overdueApprovals).toBeGreaterThanOrEqual(2);
    expect(transfers.byState.approving).toBeGreaterThan(0);

    const tooLong = await gateway.http
      .get('/v1/stats/matters?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&bucket=hour')
      .set('authorization', await auditor.auth())
      .expect(400);
    expect(tooLong.body.code).toBe('VALIDATION_FAILED');
    await gateway.http
      .get('/v1/stats/matters')
      .set('authorization', await hall.auth())
      .expect(403);
  });

  it('refuses a matter whose approvals name no registered department, or one twice', async () => {
    const register = async (approvals: object[]) =>
      registry.http
        .post('/v1/matters')
        .set('authorization', await admin.auth())
        .send({ code: `m-${Date.now().toString(36)}-${approvals.length}`, title: 't', evidence: [], materials: [], onComplete: [], approvals });
    const byHall = await register([{ by: hall.id, timeLimitHours: 8 }]);
    expect([byHall.status, byHall.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(byHall.body.detail).toContain(hall.id);
    const twice = await register([
      { by: land.id, timeLimitHours: 8 },
      { by: land.id, timeLimitHours: 9 },
    ]);
    expect([twice.status, twice.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const zero = await register([{ by: land.id, timeLimitHours: 0 }]);
    expect(zero.status).toBe(400);
    const dueWithoutDeferring = await registry.http
      .post('/v1/matters')
      .set('authorization', await admin.auth())
      .send({ code: `m-${Date.now().toString(36)}-d`, title: 't', evidence: [], materials: [{ type: 'deed', dueDays: 3 }], onComplete: [] });
    expect([dueWithoutDeferring.status, dueWithoutDeferring.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});
