// Every unit a matter notifies is a registered member (issue 16, "done when"), through the real
// broker and the real apps: a 低保 case notifies six recipients — 人社 and 教育 by their own
// connectors (benefits), 残联 by webhook, the power, water and cable companies by their connectors
// (discounts) — each applies it in its own (simulated) system and the case reads "6 of 6
// completed"; a property transfer with water, power, gas, cable and broadband accounts reaches
// "5 of 5", the certificate's very bytes in each utility's system (broadband by webhook); the
// citizen's access log names every recipient that received their data.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { mintToken } from '@datarun/auth';
import { connectorMember, type DatarunConfig } from '@datarun/config';
import { SUBSISTENCE_ALLOWANCE } from '@datarun/registry';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { ConnectorModule } from '../../apps/connector/src/app.module.js';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { withAuditSigningKey } from '../support/audit-keys.js';
import { eventually } from '../support/eventually.js';
import { registerMember, type TestMember, uniqueMemberId } from '../support/members.js';
import { buildTransferWorld, certificateOf, listening, sha256, type TransferWorld, transferCaseBody } from '../support/transfers.js';

jest.setTimeout(180_000);

interface CaseView {
  state: string;
  transfers: Array<{
    requestId: string;
    utility: string | null;
    recipient: { id: string; name: string } | null;
    request: string;
    benefit?: string;
    state: string;
  }>;
  progress: { summary: string; completed: number; total: number };
}

describe('every unit a matter notifies is a registered member', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datarun-recipients-'));
  const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let world: TransferWorld;
  /** The sandbox that serves the webhook recipients (残联, the broadband company), with their keys. */
  let hooks: TestApp;
  let hooksUrl: string;
  let audit: TestApp;
  const departments: TestApp[] = [];
  let renshe: TestMember;
  let jiaoyu: TestMember;
  let canlian: TestMember;

  const keyFileOf = (member: TestMember): string => {
    const file = join(dir, `${member.id}.key.pem`);
    writeFileSync(file, member.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    return file;
  };
  const citizen = async (idNumber: string) =>
    `Bearer ${await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: idNumber })}`;

  beforeAll(async () => {
    writeFileSync(join(dir, 'idp.pub.pem'), idp.publicKey.export({ type: 'spki', format: 'pem' }));
    world = await buildTransferWorld({
      connectors: ['water', 'electricity', 'gas', 'cable'],
      env: {
        DATARUN_CITIZEN_IDP_PUBLIC_KEY: join(dir, 'idp.pub.pem'),
        // The webhook sandbox listens on a port chosen below.
        EGRESS_ALLOWLIST: '127.0.0.1:*',
        WEBHOOK_REFRESH_SECONDS: '1',
      },
    });
    const { city } = world;
    audit = await bootApp(AuditAppModule.forRoot(withAuditSigningKey(world.config)), 'audit');

    // The departments: 人社 and 教育 take delivery by Kafka through connectors of their own, 残联 by webhook.
    renshe = await registerMember(city.registry, city.admin, 'department', 'zj.test.renshe', uniqueMemberId('zj.test.renshe'), '测试市人力资源和社会保障局', {
      delivery: 'kafka',
      requests: ['benefit'],
    });
    jiaoyu = await registerMember(city.registry, city.admin, 'department', 'zj.test.jiaoyu', uniqueMemberId('zj.test.jiaoyu'), '测试市教育局', {
      delivery: 'kafka',
      requests: ['benefit'],
    });
    canlian = await registerMember(city.registry, city.admin, 'department', 'zj.test.canlian', uniqueMemberId('zj.test.canlian'), '测试市残疾人联合会');
    const broadband = world.utilities.broadband;
    const webhookMembers = [canlian, broadband].map((m) => ({ id: m.id, keyId: m.kid, privateKey: keyFileOf(m) }));
    const hooksConfig: DatarunConfig = { ...world.config, sandbox: { ...world.config.sandbox, webhookMembers } };
    hooks = await bootApp(SandboxModule.forRoot(hooksConfig), 'sandbox-webhooks');
    hooksUrl = await listening(hooks);
    for (const [member, settings] of [
      [canlian, { requests: ['benefit'] }],
      [broadband, { requests: ['transfer', 'discount'], utilityKind: 'broadband' }],
    ] as const) {
      await city.registry.http
        .put(`/v1/members/${member.id}/recipient`)
        .set('authorization', await city.admin.auth())
        .send({ delivery: 'webhook', endpoint: `${hooksUrl}/v1/webhooks/${member.id}`, ...settings })
        .expect(200);
    }
    for (const member of [renshe, jiaoyu]) {
      const config: DatarunConfig = {
        ...world.config,
        connector: {
          ...world.config.connector,
          member: connectorMember(world.config, {
            id: member.id,
            keyId: member.kid,
            privateKey: keyFileOf(member),
            systemUrl: `${world.sandboxUrl}/v1/recipients/${member.id}`,
            inbox: join(dir, `${member.id}.inbox.sqlite`),
          }),
        },
      };
      departments.push(await bootApp(ConnectorModule.forRoot(config), `connector-${member.id}`));
    }
  });

  afterAll(async () => {
    await Promise.allSettled(departments.map((d) => d.close()));
    await hooks?.close();
    await audit?.close();
    await world?.close();
  });

  const caseOf = async (caseId: string): Promise<CaseView> =>
    (
      await world.city.gateway.http
        .get(`/v1/cases/${caseId}`)
        .set('authorization', await world.city.hall.auth())
        .expect(200)
    ).body;
  const whenDone = (caseId: string, total: number) =>
    eventually(`${total} of ${total} completed`, () => caseOf(caseId), { until: (c) => c.progress.completed === total, timeoutMs: 60_000 });
  const complete = async (caseId: string) =>
    world.city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
  const upload = async (caseId: string, type: string, bytes: Buffer) =>
    world.city.gateway.http
      .put(`/v1/cases/${caseId}/materials/${type}`)
      .set('authorization', await world.city.hall.auth())
      .set('content-type', 'application/pdf')
      .send(bytes)
      .expect(200);

  it('a 低保 case reaches all six units of the seed, each applying its own benefit, and reads 6 of 6 completed', async () => {
    const { city } = world;
    // The seed's 低保 matter, with this city's members in place of the demo city's.
    const ids: Record<string, string> = { 'zj.demo.renshe': renshe.id, 'zj.demo.jiaoyu': jiaoyu.id, 'zj.demo.canlian': canlian.id };
    await city.registry.http
      .post('/v1/matters')
      .set('authorization', await city.admin.auth())
      .send({
        ...SUBSISTENCE_ALLOWANCE,
        evidence: ['household'],
        onComplete: SUBSISTENCE_ALLOWANCE.onComplete.map((n) => ({ ...n, notify: ids[n.notify] ?? n.notify })),
      })
      .expect(201);
    const applicant = city.people[2];
    const decision = Buffer.from(`%PDF-1.7 低保审批决定书 ${applicant.name}`);
    const accounts = { water: 'W-DB-1', electricity: 'E-DB-1', cable: 'C-DB-1' };
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send({
        matter: SUBSISTENCE_ALLOWANCE.code,
        parties: [{ idNumber: applicant.idNumber, name: applicant.name, role: 'applicant' }],
        utilityAccounts: accounts,
        materials: [{ type: 'allowance-decision', sha256: sha256(decision) }],
      })
      .expect(201);
    const caseId: string = opened.body.id;
    await upload(caseId, 'allowance-decision', decision);
    await complete(caseId);

    const done = await whenDone(caseId, 6);
    expect(done.progress.summary).toBe('6 of 6 completed');
    expect(done.transfers.map((t) => [t.recipient?.id, t.request, t.benefit ?? t.utility]).sort()).toEqual(
      [
        [renshe.id, 'benefit', 'pension-insurance-subsidy'],
        [jiaoyu.id, 'benefit', 'education-aid'],
        [canlian.id, 'benefit', 'disability-subsidy'],
        [world.utilities.electricity.id, 'discount', 'electricity'],
        [world.utilities.water.id, 'discount', 'water'],
        [world.utilities.cable.id, 'discount', 'cable'],
      ].sort(),
    );
    expect(done.transfers.find((t) => t.recipient?.id === renshe.id)?.recipient?.name).toBe('测试市人力资源和社会保障局');

    // Each department's register holds the benefit and the decision's very bytes; only 人社 was given the full ID number.
    for (const [member, sandbox] of [
      [renshe, world.sandbox],
      [jiaoyu, world.sandbox],
      [canlian, hooks],
    ] as const) {
      const applied = (await sandbox.http.get(`/v1/recipients/${member.id}/requests`).expect(200)).body.requests as Array<Record<string, unknown>>;
      expect(applied).toHaveLength(1);
      expect(JSON.stringify(applied[0])).toContain(sha256(decision));
      const requestId = done.transfers.find((t) => t.recipient?.id === member.id)!.requestId;
      const bytes = await sandbox.http.get(`/v1/recipients/${member.id}/requests/${requestId}/materials/allowance-decision`).buffer(true).expect(200);
      expect(sha256(bytes.body as Buffer)).toBe(sha256(decision));
      expect(JSON.stringify(applied[0]).includes(applicant.idNumber)).toBe(member === renshe);
    }
    // The discounts are on the household's accounts.
    for (const [kind, account] of Object.entries(accounts)) {
      const held = (await world.sandbox.http.get(`/v1/utilities/${kind}/accounts/${account}`).expect(200)).body;
      expect(held.discounts).toEqual([SUBSISTENCE_ALLOWANCE.code]);
    }

    // The citizen sees each of the six that received their data, by name.
    const log = (
      await audit.http
        .get('/v1/me/access-log')
        .set('authorization', await citizen(applicant.idNumber))
        .expect(200)
    ).body.items as Array<{
      kind: string;
      organisation: { id: string; name: string };
      caseId: string | null;
    }>;
    const received = new Set(log.filter((e) => e.kind === 'request' && e.caseId === caseId).map((e) => e.organisation.id));
    expect([...received].sort()).toEqual(done.transfers.map((t) => t.recipient!.id).sort());
    const fetched = new Set(log.filter((e) => e.kind === 'material' && e.caseId === caseId).map((e) => e.organisation.id));
    expect([...fetched].sort()).toEqual([...received].sort());
  });

  it('a property transfer moves water, power, gas, cable and broadband, with the certificate’s bytes in each utility’s system', async () => {
    const { city } = world;
    const certificate = certificateOf('five');
    const accounts = { water: 'W-5', electricity: 'E-5', gas: 'G-5', cable: 'C-5', broadband: 'B-5' };
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(transferCaseBody(world, { unit: 'UNIT-FIVE', accounts, materials: [{ type: 'property-certificate', sha256: sha256(certificate) }] }))
      .expect(201);
    const caseId: string = opened.body.id;
    await upload(caseId, 'property-certificate', certificate);
    await complete(caseId);

    const done = await whenDone(caseId, 5);
    expect(done.progress.summary).toBe('5 of 5 completed');
    expect(done.transfers.map((t) => t.utility).sort()).toEqual(Object.keys(accounts).sort());
    for (const t of done.transfers) {
      expect(t.recipient?.id).toBe(world.utilities[t.utility as keyof typeof accounts].id);
      // Broadband took delivery by webhook (the hooks sandbox), the others through their connectors.
      const system = t.utility === 'broadband' ? hooks : world.sandbox;
      const bytes = await system.http.get(`/v1/utilities/${t.utility}/requests/${t.requestId}/materials/property-certificate`).buffer(true).expect(200);
      expect(sha256(bytes.body as Buffer)).toBe(sha256(certificate));
      const account = (await system.http.get(`/v1/utilities/${t.utility}/accounts/${accounts[t.utility as keyof typeof accounts]}`).expect(200)).body;
      expect(account.holder.name).toBe(city.people[1].name);
    }
  });

  it('a case whose matter names a utility the case has no account for leaves it out when optional', async () => {
    const { city } = world;
    const certificate = certificateOf('three');
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(
        transferCaseBody(world, {
          unit: 'UNIT-THREE',
          accounts: { water: 'W-3', electricity: 'E-3', gas: 'G-3' },
          materials: [{ type: 'property-certificate', sha256: sha256(certificate) }],
        }),
      )
      .expect(201);
    await upload(opened.body.id, 'property-certificate', certificate);
    await complete(opened.body.id);
    const done = await whenDone(opened.body.id, 3);
    expect(done.progress.summary).toBe('3 of 3 completed');
    expect(done.transfers.map((t) => t.utility).sort()).toEqual(['electricity', 'gas', 'water']);
  });

  it('a recipient pulls what was sent to it and nothing else, with links issued to it', async () => {
    const page = (
      await world.city.gateway.http
        .get('/v1/requests')
        .set('authorization', await renshe.auth())
        .expect(200)
    ).body;
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ request: 'benefit', benefit: 'pension-insurance-subsidy', state: 'completed' });
    const link = new URL(page.items[0].data.materials[0].url);
    expect(link.searchParams.get('to')).toBe(renshe.id);
    // The link is the recipient's: 教育's token fetches nothing through it, 人社's does.
    const path = `${link.pathname}${link.search}`;
    await world.city.gateway.http
      .get(path)
      .set('authorization', await jiaoyu.auth())
      .expect(403);
    await world.city.gateway.http
      .get(path)
      .set('authorization', await renshe.auth())
      .expect(200);
    await world.city.gateway.http.get(path).expect(401);
    // Another member's request is not found, whether it exists or not, and nothing moves.
    await world.city.gateway.http
      .post(`/v1/requests/${page.items[0].requestId}/status`)
      .set('authorization', await jiaoyu.auth())
      .send({ state: 'rejected', reason: 'not ours' })
      .expect(404);
    const again = (
      await world.city.gateway.http
        .get('/v1/requests')
        .set('authorization', await renshe.auth())
        .expect(200)
    ).body;
    expect(again.items[0].state).toBe('completed');

    // One request by its id (what a connector asks when a link expired in a backlog): its
    // recipient gets it with links issued now; another member gets the same 404 as for none, and
    // the attempt is recorded.
    const requestId: string = page.items[0].requestId;
    const one = (
      await world.city.gateway.http
        .get(`/v1/requests/${requestId}`)
        .set('authorization', await renshe.auth())
        .expect(200)
    ).body;
    expect(one).toMatchObject({ requestId, request: 'benefit', state: 'completed' });
    const fresh = new URL(one.data.materials[0].url);
    expect(fresh.searchParams.get('to')).toBe(renshe.id);
    expect(Number(fresh.searchParams.get('exp'))).toBeGreaterThanOrEqual(Number(link.searchParams.get('exp')));
    const notTheirs = await world.city.gateway.http
      .get(`/v1/requests/${requestId}`)
      .set('authorization', await jiaoyu.auth())
      .expect(404);
    expect(notTheirs.body.code).toBe('TRANSFER_NOT_FOUND');
    expect(
      (
        await world.city.gateway.http
          .get(`/v1/requests/${randomUUID()}`)
          .set('authorization', await jiaoyu.auth())
          .expect(404)
      ).body.code,
    ).toBe('TRANSFER_NOT_FOUND');
    const denied = await world.city.auditRows(`action = 'transfer.read' AND object_ref = 'transfer:${requestId}'`);
    expect(denied.map((r) => [r.member_id, r.decision])).toEqual([[jiaoyu.id, 'denied']]);
  });
});
