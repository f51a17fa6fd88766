// The sandbox's webhook recipients: a delivery must carry datarun's signature for that endpoint
// (else 401 and nothing happens); a signed one is answered 202, then the sandbox fetches each
// material under the member's own token, applies the request to the member's simulated system and
// answers the status to the gateway under that token. The gateway here is a local HTTP server that
// records what it was asked, so the test sees exactly what the sandbox sent.
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { loadKeys, type PlatformSigningKey } from '@datarun/auth';
import { CLOUDEVENTS_JSON, EVENT_TYPES, signWebhook, structuredEvent } from '@datarun/transfers';
import { jwtVerify } from 'jose';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { testConfig } from '../support/infra.js';
import { uniqueMemberId } from '../support/members.js';

const BROADBAND = uniqueMemberId('zj.test.broadband');
const CANLIAN = uniqueMemberId('zj.test.canlian');
const member = { [BROADBAND]: generateKeyPairSync('ec', { namedCurve: 'P-256' }), [CANLIAN]: generateKeyPairSync('ec', { namedCurve: 'P-256' }) };
const certificate = Buffer.from('%PDF-1.7 new property certificate');
const decision = Buffer.from('%PDF-1.7 低保 decision');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const HOST = 'sandbox.test:3010';

interface Asked {
  method: string;
  path: string;
  issuer?: string;
  body?: unknown;
}

/** The gateway as the sandbox sees it: material links (only under a member's token) and the status route. */
function fakeGateway(asked: Asked[]): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        let issuer: string | undefined;
        for (const [id, pair] of Object.entries(member)) {
          if (!token) break;
          issuer = await jwtVerify(token, pair.publicKey, { issuer: id, audience: 'datarun' }).then(
            () => id,
            () => issuer,
          );
        }
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
        asked.push({ method: req.method!, path: req.url!, issuer, body });
        if (!issuer) return void res.writeHead(401).end();
        if (req.url === '/v1/materials/certificate') return void res.writeHead(200, { 'content-type': 'application/pdf' }).end(certificate);
        if (req.url === '/v1/materials/decision') return void res.writeHead(200, { 'content-type': 'application/pdf' }).end(decision);
        if (req.method === 'POST' && /^\/v1\/requests\/[0-9a-f-]+\/status$/.test(req.url!)) return void res.writeHead(200).end();
        res.writeHead(404).end();
      })();
    });
  });
}

describe("the sandbox's webhook recipients", () => {
  let t: TestApp;
  let gateway: Server;
  let gatewayUrl: string;
  const asked: Asked[] = [];
  let platformKey: PlatformSigningKey;

  beforeAll(async () => {
    gateway = fakeGateway(asked);
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const config = testConfig({ SANDBOX_WEBHOOK_MEMBERS: `${BROADBAND},${CANLIAN}`, GATEWAY_PUBLIC_URL: gatewayUrl });
    for (const m of config.sandbox.webhookMembers) {
      mkdirSync(dirname(m.privateKey), { recursive: true });
      writeFileSync(m.privateKey, member[m.id].privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    // The relay's key: the delivery key whose public half the sandbox trusts.
    platformKey = loadKeys(config, { required: ['deliverySigningKey'] }, 'relay').require('deliverySigningKey');
    t = await bootApp(SandboxModule.forRoot(config), 'sandbox');
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => gateway?.close(r));
  });

  const transfer = (requestId = randomUUID()) => ({
    requestId,
    caseId: randomUUID(),
    utility: 'broadband',
    request: 'transfer' as const,
    recipient: BROADBAND,
    accountNumber: 'BB-7001',
    property: { unitNumber: '330802004023GB00000F03140001', address: '浙江省衢州市柯城区花园街道公园路251号7幢604室' },
    newHolder: { name: '郭俊杰', idNumberMasked: '330802********803X' },
    effectiveDate: '2026-12-08',
    materials: [{ type: 'property-certificate', sha256: sha256(certificate), url: `${gatewayUrl}/v1/materials/certificate` }],
  });
  const benefit = (requestId = randomUUID()) => ({
    requestId,
    caseId: randomUUID(),
    recipient: CANLIAN,
    request: 'benefit' as const,
    benefit: 'disability-subsidy',
    beneficiary: { name: '李娜', idNumberMasked: '330802********2021' },
    decision: { matter: 'subsistence-allowance', decidedAt: '2026-12-07T03:00:00.000Z', validFrom: '2026-12-07' },
    materials: [{ type: 'allowance-decision', sha256: sha256(decision), url: `${gatewayUrl}/v1/materials/decision` }],
  });
  const eventOf = (data: { requestId: string; request: 'transfer' | 'benefit' }) =>
    structuredEvent({
      specversion: '1.0',
      id: data.requestId,
      type: EVENT_TYPES[data.request],
      source: 'datarun.relay',
      subject: data.requestId,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data,
    });
  const deliver = (to: string, body: string, signature?: string) => {
    const req = t.http.post(`/v1/webhooks/${to}`).set('host', HOST).set('content-type', CLOUDEVENTS_JSON);
    return (signature === undefined ? req : req.set('datarun-signature', signature)).send(body);
  };
  const signed = (to: string, body: string, id: string, endpoint = `http://${HOST}/v1/webhooks/${to}`) =>
    signWebhook(body, { endpoint, eventId: id }, platformKey);

  it('refuses a delivery without a signature, or signed for another endpoint, by another key or over other bytes: 401, nothing fetched or applied', async () => {
    const data = transfer();
    const body = eventOf(data);
    const missing = await deliver(BROADBAND, body).expect(401);
    expect(missing.body).toMatchObject({ code: 'TOKEN_MISSING' });
    const elsewhere = await signed(BROADBAND, body, data.requestId, `http://${HOST}/v1/webhooks/${CANLIAN}`);
    expect((await deliver(BROADBAND, body, elsewhere).expect(401)).body).toMatchObject({ code: 'TOKEN_INVALID' });
    const stranger = await signWebhook(
      body,
      { endpoint: `http://${HOST}/v1/webhooks/${BROADBAND}`, eventId: data.requestId },
      { kid: platformKey.kid, privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
    );
    await deliver(BROADBAND, body, stranger).expect(401);
    const good = await signed(BROADBAND, body, data.requestId);
    await deliver(BROADBAND, body.replace('BB-7001', 'BB-7002'), good).expect(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(asked).toEqual([]);
    expect((await t.http.get(`/v1/webhooks/${BROADBAND}`).expect(200)).body.received).toEqual([]);
    expect((await t.http.get('/v1/utilities/broadband/requests').expect(200)).body.requests).toEqual([]);
  });

  it('answers 404 for a member it does not act for, before looking at the signature', async () => {
    const data = transfer();
    await deliver('zj.test.nobody', eventOf(data)).expect(404);
  });

  it("takes a signed transfer: 202, the certificate fetched under the member's token, applied to the broadband system, completed to the gateway", async () => {
    const data = transfer();
    const body = eventOf(data);
    await deliver(BROADBAND, body, await signed(BROADBAND, body, data.requestId)).expect(202);
    const status = await eventually('the status answered', () => asked.find((a) => a.path === `/v1/requests/${data.requestId}/status`));
    const applied = (await t.http.get('/v1/utilities/broadband/requests').expect(200)).body.requests;
    expect(applied).toEqual([
      expect.objectContaining({
        requestId: data.requestId,
        accountNumber: 'BB-7001',
        materials: [{ type: 'property-certificate', contentType: 'application/pdf', size: certificate.length, sha256: sha256(certificate) }],
      }),
    ]);
    expect(status).toEqual({
      method: 'POST',
      path: `/v1/requests/${data.requestId}/status`,
      issuer: BROADBAND,
      body: { state: 'completed', reference: applied[0].reference },
    });
    expect(asked.find((a) => a.path === '/v1/materials/certificate')).toMatchObject({ method: 'GET', issuer: BROADBAND });
    expect((await t.http.get('/v1/utilities/broadband/accounts/BB-7001').expect(200)).body.holder).toEqual(data.newHolder);

    // Delivered again (the relay retried after a lost answer): 202, the same status again, nothing applied twice or fetched again.
    const fetches = asked.filter((a) => a.path === '/v1/materials/certificate').length;
    await deliver(BROADBAND, body, await signed(BROADBAND, body, data.requestId)).expect(202);
    await eventually('the status answered again', () => asked.filter((a) => a.path === `/v1/requests/${data.requestId}/status`).length === 2);
    expect(asked.filter((a) => a.path === '/v1/materials/certificate')).toHaveLength(fetches);
    expect((await t.http.get('/v1/utilities/broadband/requests').expect(200)).body.requests).toHaveLength(1);
    const receipts = (await t.http.get(`/v1/webhooks/${BROADBAND}`).expect(200)).body.received;
    expect(receipts).toEqual([expect.objectContaining({ requestId: data.requestId, deliveries: 2, state: 'completed', statusAnswer: 200 })]);
  });

  it("takes a signed benefit into the member's beneficiary register", async () => {
    const data = benefit();
    const body = eventOf(data);
    await deliver(CANLIAN, body, await signed(CANLIAN, body, data.requestId)).expect(202);
    const status = await eventually('the status answered', () => asked.find((a) => a.path === `/v1/requests/${data.requestId}/status`));
    const applied = (await t.http.get(`/v1/recipients/${CANLIAN}/requests`).expect(200)).body.requests;
    expect(applied).toEqual([
      expect.objectContaining({ requestId: data.requestId, benefit: 'disability-subsidy', beneficiary: data.beneficiary, decision: data.decision }),
    ]);
    expect(status).toMatchObject({ issuer: CANLIAN, body: { state: 'completed', reference: applied[0].reference } });
    const bytes = await t.http.get(`/v1/recipients/${CANLIAN}/requests/${data.requestId}/materials/allowance-decision`).expect(200);
    expect(Buffer.from(bytes.body as Buffer).equals(decision)).toBe(true);
  });

  it('rejects to the gateway a request whose material is not what it says, and applies nothing', async () => {
    const data = {
      ...benefit(),
      materials: [{ type: 'allowance-decision', sha256: sha256(Buffer.from('other')), url: `${gatewayUrl}/v1/materials/decision` }],
    };
    const body = eventOf(data);
    await deliver(CANLIAN, body, await signed(CANLIAN, body, data.requestId)).expect(202);
    const status = await eventually('the status answered', () => asked.find((a) => a.path === `/v1/requests/${data.requestId}/status`));
    expect(status).toMatchObject({ issuer: CANLIAN, body: { state: 'rejected', reason: expect.stringMatching(/^MATERIAL_HASH_MISMATCH/) } });
    const applied = (await t.http.get(`/v1/recipients/${CANLIAN}/requests`).expect(200)).body.requests;
    expect(applied.map((a: { requestId: string }) => a.requestId)).not.toContain(data.requestId);
  });

  it('refuses a signed body that is no request for the member: 400, nothing done', async () => {
    const data = { ...transfer(), recipient: CANLIAN };
    const body = eventOf(data);
    expect((await deliver(BROADBAND, body, await signed(BROADBAND, body, data.requestId)).expect(400)).body).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it("serves each department's beneficiary register over HTTP: summary, apply (idempotent, documents checked), list, bytes", async () => {
    const renshe = 'zj.test.renshe-register';
    expect((await t.http.get(`/v1/recipients/${renshe}`).expect(200)).body).toEqual({ member: renshe, beneficiaries: 0, applied: 0, available: true });
    const application = {
      requestId: randomUUID(),
      request: 'benefit',
      benefit: 'pension-insurance-subsidy',
      beneficiary: { name: '李娜', idNumberMasked: '330802********2021', idNumber: '330802199001012021', role: 'applicant' },
      decision: { matter: 'subsistence-allowance', decidedAt: '2026-12-07T03:00:00.000Z', validFrom: '2026-12-07' },
      materials: [
        { type: 'allowance-decision', sha256: sha256(decision), contentType: 'application/pdf', size: decision.length, content: decision.toString('base64') },
      ],
    };
    const first = (await t.http.post(`/v1/recipients/${renshe}/requests`).send(application).expect(200)).body;
    expect(first).toEqual({ reference: expect.any(String), duplicate: false });
    expect((await t.http.post(`/v1/recipients/${renshe}/requests`).send(application).expect(200)).body).toEqual({ ...first, duplicate: true });
    const forged = { ...application, requestId: randomUUID(), materials: [{ ...application.materials[0], sha256: sha256(certificate) }] };
    expect((await t.http.post(`/v1/recipients/${renshe}/requests`).send(forged).expect(400)).body).toMatchObject({ code: 'MATERIAL_HASH_MISMATCH' });
    await t.http
      .post(`/v1/recipients/${renshe}/requests`)
      .send({ ...application, requestId: randomUUID(), beneficiary: { ...application.beneficiary, idNumber: '12345' } })
      .expect(400);
    const listed = (await t.http.get(`/v1/recipients/${renshe}/requests`).expect(200)).body.requests;
    expect(listed).toEqual([
      expect.objectContaining({ requestId: application.requestId, beneficiary: application.beneficiary, calls: 2, reference: first.reference }),
    ]);
    const bytes = await t.http.get(`/v1/recipients/${renshe}/requests/${application.requestId}/materials/allowance-decision`).expect(200);
    expect(bytes.headers['content-type']).toBe('application/pdf');
    await t.http.get(`/v1/recipients/${renshe}/requests/${application.requestId}/materials/id-card`).expect(404);
    await t.http.get('/v1/recipients/Not%20A%20Member').expect(404);
  });

  it('takes the holder’s idNumber and role, and the request’s recipient, in a utility application', async () => {
    const application = {
      requestId: randomUUID(),
      request: 'discount',
      recipient: 'zj.test.cable',
      accountNumber: 'C-1',
      matter: 'subsistence-allowance',
      holder: { name: '李娜', idNumberMasked: '330802********2021', idNumber: '330802199001012021', role: 'applicant' },
      effectiveDate: '2026-12-07',
      materials: [],
    };
    await t.http.post('/v1/utilities/cable/requests').send(application).expect(200);
    expect((await t.http.get('/v1/utilities/cable/accounts/C-1').expect(200)).body.discounts).toEqual(['subsistence-allowance']);
  });
});
