// The whole way of a webhook recipient, through the real apps and broker: a department registered
// with `delivery: webhook` at the sandbox's webhook, a matter that grants it a benefit, a case
// completed at the service hall. The relay publishes the request and posts it, signed, to the
// sandbox; the sandbox fetches the decision under the member's own token from the gateway,
// applies the benefit to the member's register and answers the status to the gateway, and the
// case reads "1 of 1 completed".
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadKeys, publicJwkOf } from '@datarun/auth';
import type { DatarunConfig } from '@datarun/config';
import { WEBHOOK_SIGNING_KEY } from '@datarun/transfers';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { buildCity, type City } from '../support/exchange.js';
import { uniqueName } from '../support/infra.js';
import { keyPair, uniqueMemberId } from '../support/members.js';
import { listening } from '../support/transfers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('a webhook recipient, from completion to the case', () => {
  const member = uniqueMemberId('zj.test.canlian');
  const pair = keyPair();
  let city: City;
  let sandbox: TestApp;
  let relay: TestApp;
  let sandboxUrl: string;

  beforeAll(async () => {
    city = await buildCity(40, {
      KAFKA_TOPIC_PREFIX: `${uniqueName('t')}.`,
      RELAY_POLL_MS: '20',
      // The sandbox listens on a port chosen below: any port of this host.
      EGRESS_ALLOWLIST: '127.0.0.1:*',
      SANDBOX_WEBHOOK_MEMBERS: member,
      WEBHOOK_REFRESH_SECONDS: '1',
    });
    const gatewayUrl = await listening(city.gateway);
    const config: DatarunConfig = { ...city.db.config, transfers: { ...city.db.config.transfers, gatewayPublicUrl: gatewayUrl } };
    // The member's key, where the sandbox looks for it (as `npm start` makes the demo members' keys).
    const keyFile = config.sandbox.webhookMembers[0].privateKey;
    mkdirSync(dirname(keyFile), { recursive: true });
    writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    sandbox = await bootApp(SandboxModule.forRoot(config), 'sandbox');
    sandboxUrl = await listening(sandbox);
    // The relay signs with its own delivery key, whose public half the sandbox trusts.
    relay = await bootApp(RelayModule.forRoot(config), 'relay');
  }, 90_000);

  afterAll(async () => {
    await relay?.close();
    await sandbox?.close();
    await city?.close();
  });

  it('reaches the register through the signed webhook, and the case reads 1 of 1 completed', async () => {
    await city.registry.http
      .post('/v1/members')
      .set('authorization', await city.admin.auth('admin-1'))
      .send({
        id: member,
        name: '测试市残疾人联合会',
        kind: 'department',
        // Registered under the key id the sandbox mints its tokens with: the member id.
        jwks: { keys: [publicJwkOf(pair.publicKey, member)] },
        recipient: { delivery: 'webhook', endpoint: `${sandboxUrl}/v1/webhooks/${member}`, requests: ['benefit'] },
      })
      .expect(201);
    const matter = uniqueName('allowance').replaceAll('_', '-');
    await city.registry.http
      .post('/v1/matters')
      .set('authorization', await city.admin.auth())
      .send({
        code: matter,
        title: '最低生活保障审批（测试）',
        evidence: [],
        materials: ['allowance-decision'],
        onComplete: [{ notify: member, request: 'benefit', benefit: 'disability-subsidy', materials: ['allowance-decision'], holderRole: 'applicant' }],
      })
      .expect(201);
    const applicant = city.people[0];
    const decision = Buffer.from('%PDF-1.7 低保审批决定书 webhook');
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send({
        matter,
        parties: [{ idNumber: applicant.idNumber, name: applicant.name, role: 'applicant' }],
        materials: [{ type: 'allowance-decision', sha256: sha256(decision) }],
      })
      .expect(201);
    const caseId: string = opened.body.id;
    await city.gateway.http
      .put(`/v1/cases/${caseId}/materials/allowance-decision`)
      .set('authorization', await city.hall.auth())
      .set('content-type', 'application/pdf')
      .send(decision)
      .expect(200);
    await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);

    const view = await eventually(
      'the case completed',
      async () =>
        (
          await city.gateway.http
            .get(`/v1/cases/${caseId}`)
            .set('authorization', await city.hall.auth())
            .expect(200)
        ).body,
      { until: (c) => c.progress?.completed === 1 },
    );
    const applied = (await sandbox.http.get(`/v1/recipients/${member}/requests`).expect(200)).body.requests;
    expect(applied).toEqual([
      expect.objectContaining({
        requestId: view.transfers[0].requestId,
        benefit: 'disability-subsidy',
        beneficiary: { name: applicant.name, idNumberMasked: expect.stringMatching(/^\d{6}\*{8}\d{3}[\dX]$/) },
        materials: [{ type: 'allowance-decision', contentType: 'application/pdf', size: decision.length, sha256: sha256(decision) }],
      }),
    ]);
    expect(view.transfers[0]).toMatchObject({ state: 'completed', reference: applied[0].reference });
    const receipts = (await sandbox.http.get(`/v1/webhooks/${member}`).expect(200)).body.received;
    expect(receipts).toEqual([expect.objectContaining({ requestId: view.transfers[0].requestId, state: 'completed', statusAnswer: 200 })]);
  });
});
