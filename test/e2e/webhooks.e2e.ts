// Webhook delivery through the real broker: a recipient registered with `delivery: webhook` gets
// each request on its topic posted to its endpoint as a CloudEvent signed by the delivery key; a
// failing endpoint is retried with backoff and delivered once, one that keeps failing is
// dead-lettered when the retry budget is spent, and one the egress allowlist refuses once DNS
// answers is dead-lettered without being called. Endpoints are local HTTP servers of this test.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadKeys, publicJwkOf } from '@datarun/auth';
import { cloudEvent, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import {
  CLOUDEVENTS_JSON,
  EVENT_TYPES,
  RELAY_SOURCE,
  recipientTopic,
  SIGNATURE_HEADER,
  topicSpec,
  verifyWebhookSignature,
  WEBHOOK_SIGNING_KEY,
  WebhookDelivery,
} from '@datarun/transfers';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { migratedDatabase, type TestDatabase, uniqueName } from '../support/infra.js';
import { adminKeyFile, keyPair, type TestMember, uniqueMemberId } from '../support/members.js';

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An endpoint that answers each path's statuses in turn (the last one from then on), recording every call. */
function endpointServer(answers: Record<string, number[]>, hits: Hit[]): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const before = hits.filter((h) => h.path === path).length;
      hits.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
      const statuses = answers[path.split('/')[1]] ?? [404];
      res.writeHead(statuses[Math.min(before, statuses.length - 1)], { 'content-type': 'text/plain' }).end('what the recipient says is never read');
    });
  });
}

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};

describe('webhook delivery by the relay', () => {
  let db: TestDatabase;
  let registry: TestApp;
  let relay: TestApp;
  let kafka: KafkaMessaging;
  let admin: TestMember;
  let endpoints: Server;
  let trap: Server;
  let port: number;
  let trapPort: number;
  const hits: Hit[] = [];
  const trapped: Hit[] = [];
  const prefix = `${uniqueName('t')}.`;
  const platformKeys = () => new Map([[platformKey.kid, platformKey.publicKey]]);
  let platformKey: { kid: string; publicKey: import('node:crypto').KeyObject; privateKey: import('node:crypto').KeyObject };

  beforeAll(async () => {
    endpoints = endpointServer({ ok: [202], flaky: [500, 200], broken: [503], gone: [410] }, hits);
    port = await listen(endpoints);
    trap = endpointServer({ hook: [200] }, trapped);
    trapPort = await listen(trap);
    const keys = adminKeyFile();
    admin = keys.admin;
    db = await migratedDatabase({
      DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath,
      KAFKA_TOPIC_PREFIX: prefix,
      // The endpoints' address and port; the trap only by name, so that what `localhost` resolves
      // to (a loopback address no address entry allows) is refused when the socket connects.
      EGRESS_ALLOWLIST: `127.0.0.1:${port},localhost:${trapPort}`,
      WEBHOOK_MAX_ATTEMPTS: '20',
      WEBHOOK_RETRY_BUDGET_SECONDS: '2',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_REFRESH_SECONDS: '1',
    });
    // What a recipient verifies with: the delivery key's public half (the gateway's JWKS, kid `delivery`).
    const signing = loadKeys(db.config, { required: ['deliverySigningKey', 'deliveryPublicKey'] }, 'relay');
    platformKey = { ...signing.require('deliverySigningKey'), publicKey: signing.require('deliveryPublicKey').get('delivery')! };
    registry = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    relay = await bootApp(RelayModule.forRoot(db.config), 'relay');
    kafka = new KafkaMessaging(db.config.kafka);
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await registry?.close();
    await kafka?.close();
    await db?.drop();
    await new Promise((r) => endpoints?.close(r));
    await new Promise((r) => trap?.close(r));
  });

  /** A department registered to receive benefits at `endpoint`, served by the relay once it re-reads the recipients. */
  const webhookRecipient = async (endpoint: (member: string) => string) => {
    const id = uniqueMemberId('zj.test.canlian');
    await registry.http
      .post('/v1/members')
      .set('authorization', await admin.auth('admin-1'))
      .send({
        id,
        name: '测试市残疾人联合会',
        kind: 'department',
        jwks: { keys: [publicJwkOf(keyPair().publicKey, `${id}-k1`)] },
        recipient: { delivery: 'webhook', endpoint: endpoint(id), requests: ['benefit'] },
      })
      .expect(201);
    await relay.app.get(WebhookDelivery).refresh();
    return id;
  };

  /** A benefit request on the member's topic, as the relay publishes it. */
  const publishBenefit = async (member: string) => {
    const requestId = randomUUID();
    const data = {
      requestId,
      caseId: randomUUID(),
      recipient: member,
      request: 'benefit',
      benefit: 'disability-subsidy',
      beneficiary: { name: '李娜', idNumberMasked: '330802********2021' },
      decision: { matter: 'subsistence-allowance', decidedAt: '2026-12-07T03:00:00.000Z', validFrom: '2026-12-07' },
      materials: [],
    };
    const topic = recipientTopic(member);
    await kafka.ensureTopics([topicSpec(topic, 1)]);
    const event = cloudEvent({
      id: requestId,
      type: EVENT_TYPES.benefit,
      source: RELAY_SOURCE,
      subject: requestId,
      data,
      correlationid: `wh-${requestId.slice(0, 8)}`,
    });
    await kafka.publish(topic, [toKafkaMessage(event, `pseudonym-${requestId.slice(0, 8)}`)]);
    return { requestId, data, topic };
  };

  const deadLetterOf = (requestId: string) =>
    eventually('the dead letter recorded', async () => {
      const rows = await db.ownerQuery<{ reason: string; topic: string; sealed_by: string | null; dead_lettered_by: string }>(
        `SELECT reason, topic, sealed_by, dead_lettered_by FROM dead_letter WHERE headers->>'ce_id' = $1`,
        [requestId],
      );
      return rows.rows[0];
    });

  it('posts the request as a structured CloudEvent, signed by the platform for this endpoint, once', async () => {
    const member = await webhookRecipient((id) => `http://127.0.0.1:${port}/ok/${id}`);
    const { requestId, data, topic } = await publishBenefit(member);
    const hit = await eventually('the webhook called', () => hits.find((h) => h.path === `/ok/${member}`));
    expect(hit.headers['content-type']).toBe(CLOUDEVENTS_JSON);
    expect(hit.headers['x-request-id']).toBe(`wh-${requestId.slice(0, 8)}`);
    expect(JSON.parse(hit.body.toString())).toEqual({
      specversion: '1.0',
      id: requestId,
      type: EVENT_TYPES.benefit,
      source: RELAY_SOURCE,
      subject: requestId,
      time: expect.any(String),
      datacontenttype: 'application/json',
      correlationid: `wh-${requestId.slice(0, 8)}`,
      data,
    });
    const endpoint = `http://127.0.0.1:${port}/ok/${member}`;
    const signature = hit.headers[SIGNATURE_HEADER] as string;
    expect(await verifyWebhookSignature(hit.body, signature, { endpoint, eventId: requestId }, platformKeys())).toMatchObject({ ok: true });
    // Bound to this recipient: the same bytes and signature do not verify for another endpoint.
    expect(
      await verifyWebhookSignature(hit.body, signature, { endpoint: `http://127.0.0.1:${port}/ok/other`, eventId: requestId }, platformKeys()),
    ).toMatchObject({
      ok: false,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(hits.filter((h) => h.path === `/ok/${member}`)).toHaveLength(1);
    expect(topic).toBe(`datarun.recipients.${member}.requested.v1`);
  });

  it('retries a 500 and delivers once when the endpoint answers 200', async () => {
    const member = await webhookRecipient((id) => `http://127.0.0.1:${port}/flaky/${id}`);
    const { requestId } = await publishBenefit(member);
    const calls = await eventually('delivered after a retry', () => hits.filter((h) => h.path === `/flaky/${member}`), { until: (c) => c.length >= 2 });
    expect(calls.map((c) => JSON.parse(c.body.toString()).id)).toEqual([requestId, requestId]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(hits.filter((h) => h.path === `/flaky/${member}`)).toHaveLength(2);
    const letters = await db.ownerQuery(`SELECT 1 FROM dead_letter WHERE headers->>'ce_id' = $1`, [requestId]);
    expect(letters.rowCount).toBe(0);
  });

  it('dead-letters a request whose endpoint keeps failing once the retry budget is spent, sealed by datarun, with the last reason', async () => {
    const member = await webhookRecipient((id) => `http://127.0.0.1:${port}/broken/${id}`);
    const { requestId, topic } = await publishBenefit(member);
    const letter = await deadLetterOf(requestId);
    expect(letter).toMatchObject({ topic, dead_lettered_by: 'relay', sealed_by: 'datarun' });
    expect(letter.reason).toMatch(
      new RegExp(`^webhook of ${member.replaceAll('.', '\\.')}: answered 503; gave up after \\d+ attempts, the retry budget of 2 s spent$`),
    );
    const calls = hits.filter((h) => h.path === `/broken/${member}`).length;
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(20);
  });

  it('dead-letters at once what the endpoint refuses for good (410), after one call', async () => {
    const member = await webhookRecipient((id) => `http://127.0.0.1:${port}/gone/${id}`);
    const { requestId } = await publishBenefit(member);
    expect((await deadLetterOf(requestId)).reason).toBe(`webhook of ${member}: answered 410`);
    expect(hits.filter((h) => h.path === `/gone/${member}`)).toHaveLength(1);
  });

  it('refuses an endpoint whose name resolves to an address the allowlist does not allow when it connects, and dead-letters without calling it', async () => {
    const member = await webhookRecipient((id) => `http://localhost:${trapPort}/hook/${id}`);
    const { requestId } = await publishBenefit(member);
    expect((await deadLetterOf(requestId)).reason).toBe(
      `webhook of ${member}: ENDPOINT_NOT_ALLOWED: localhost:${trapPort} resolves to no address the egress allowlist allows`,
    );
    expect(trapped).toEqual([]);
  });

  it('counts deliveries by outcome and retries on /metrics', async () => {
    const text = (await relay.http.get('/metrics').expect(200)).text;
    expect(text).toMatch(/datarun_webhook_deliveries_total\{outcome="delivered"\} [1-9]/);
    expect(text).toMatch(/datarun_webhook_deliveries_total\{outcome="exhausted"\} 1/);
    expect(text).toMatch(/datarun_webhook_deliveries_total\{outcome="refused"\} 1/);
    expect(text).toMatch(/datarun_webhook_deliveries_total\{outcome="not_allowed"\} 1/);
    expect(text).toMatch(/datarun_webhook_retries_total\{reason="status"\} [1-9]/);
  });
});
