// The connector a partner runs (issue 16): Kafka, its own system and the gateway's material links,
// never datarun's database. Started here with DATABASE_URL at a port where nothing listens, it
// still consumes the water request through the real broker, fetches the certificate under the
// water member's own token (the gateway serves a link to its recipient only, and audits the fetch
// under that member), applies it in the sandbox's simulated water company, and its signed status
// completes the request. A redelivery is skipped by its SQLite inbox, its status sent again; a
// request addressed to another member is dead-lettered, never applied. A rejection answers its own
// send only: redelivered, it is skipped; resent from its case once its cause is fixed, it applies. A department's connector
// (no utility kind) receives a benefit on its own topic the same way.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { connectorMember, type DatarunConfig, loadConfig } from '@datarun/config';
import { ConnectorInbox } from '@datarun/connector';
import { cloudEvent, type CloudEvent, fromKafkaMessage, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { recipientTopic, requestTopic } from '@datarun/transfers';
import type { KafkaMessage } from 'kafkajs';
import { DataSource } from 'typeorm';
import { ConnectorModule } from '../../apps/connector/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { registerMember, uniqueMemberId } from '../support/members.js';
import { buildTransferWorld, certificateOf, sha256, transferCaseBody, type TransferWorld } from '../support/transfers.js';

jest.setTimeout(120_000);

const MATTER = 'water-move-connector';
/** Nothing listens on port 1: any connection to "its database" would fail (and readiness would name it). */
const NOWHERE = 'postgres://datarun_app@127.0.0.1:1/nowhere';

describe("a connector with no access to datarun's database", () => {
  let world: TransferWorld;
  let connector: TestApp;
  /** A department's connector, started by the benefit test. */
  let department: TestApp | undefined;
  let config: DatarunConfig;

  const getCase = async (id: string) =>
    (
      await world.city.gateway.http
        .get(`/v1/cases/${id}`)
        .set('authorization', await world.city.hall.auth())
        .expect(200)
    ).body;
  const waterRequests = async () =>
    ((await fetch(`${world.sandboxUrl}/v1/utilities/water/requests`).then((r) => r.json())) as { requests: unknown }).requests as Array<{
      requestId: string;
      calls: number;
      accountNumber: string;
      materials: Array<{ type: string; contentType: string; size: number; sha256: string }>;
    }>;

  beforeAll(async () => {
    // Everything of datarun runs on its database; the connector alone is started below.
    world = await buildTransferWorld({ connectors: [] });
    await world.city.registry.http
      .post('/v1/matters')
      .set('authorization', await world.city.admin.auth())
      .send({
        code: MATTER,
        title: '过户（仅供水）',
        evidence: [],
        materials: ['property-certificate'],
        onComplete: [{ notify: 'water', request: 'transfer', materials: ['property-certificate'], holderRole: 'buyer' }],
      })
      .expect(201);
    config = { ...world.connectorConfig('water'), database: loadConfig({ DATABASE_URL: NOWHERE, DATABASE_OWNER_URL: NOWHERE }).database };
    connector = await bootApp(ConnectorModule.forRoot(config), 'connector-water');
  });
  afterAll(async () => {
    await department?.close();
    await connector?.close();
    await world?.close();
  });

  it('is ready on Kafka and its own system alone, and holds no database connection', async () => {
    const ready = await connector.http.get('/health/ready').expect(200);
    expect(Object.keys(ready.body.details).sort()).toEqual(['kafka', 'recipient-system']);
    expect(() => connector.app.get(DataSource, { strict: false })).toThrow();
    expect(config.database.url).toContain('127.0.0.1:1/');
  });

  it('applies a request in its own system with the material it fetched under its member token, and its signed status completes it', async () => {
    const { city } = world;
    const certificate = certificateOf('connector');
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(
        transferCaseBody(world, {
          matter: MATTER,
          unit: 'UNIT-connector',
          accounts: { water: 'W-connector' },
          materials: [{ type: 'property-certificate', sha256: sha256(certificate) }],
        }),
      )
      .expect(201);
    const caseId: string = opened.body.id;
    await city.gateway.http
      .put(`/v1/cases/${caseId}/materials/property-certificate`)
      .set('authorization', await city.hall.auth())
      .set('content-type', 'application/pdf')
      .send(certificate)
      .expect(200);
    const completed = await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    const [request] = completed.body.transfers as Array<{ requestId: string }>;

    const done = await eventually('the water request completed', () => getCase(caseId), { until: (c) => c.progress.completed === 1 });
    expect(done.transfers[0]).toMatchObject({ utility: 'water', state: 'completed', recipient: { id: world.utilities.water.id } });
    expect(done.transfers[0].reference).toMatch(/^W-/);

    // Its own system received the certificate itself, once.
    const applied = (await waterRequests()).filter((r) => r.accountNumber === 'W-connector');
    expect(applied).toEqual([
      expect.objectContaining({
        requestId: request.requestId,
        calls: 1,
        materials: [{ type: 'property-certificate', contentType: 'application/pdf', size: certificate.length, sha256: sha256(certificate) }],
      }),
    ]);
    // The gateway served the material to the water member's token, and recorded the fetch under it.
    const fetched = await city.auditRows(`action = 'material.fetched' AND case_id = '${caseId}'`);
    expect(fetched.map((r) => [r.member_id, r.actor, r.decision])).toEqual([[world.utilities.water.id, 'system', 'allowed']]);
    // Its statuses were applied, so they were signed by the water member (the relay refuses any other).
    const statuses = await city.auditRows(`action = 'transfer.status' AND case_id = '${caseId}'`);
    expect(statuses.length).toBeGreaterThanOrEqual(2);

    // What it applied is in its own inbox (a SQLite file), not in datarun's database.
    const inbox = new ConnectorInbox(config.connector.member!.inbox);
    try {
      expect(inbox.entry(request.requestId)).toMatchObject({ outcome: { state: 'completed', reference: done.transfers[0].reference }, redeliveries: 0 });
    } finally {
      inbox.close();
    }
    const { rows } = await city.db.ownerQuery(`SELECT to_regclass('bridge_inbox') AS inbox`);
    expect(rows).toEqual([{ inbox: null }]);
  });

  it('skips a redelivered request without applying it again, and sends its status again', async () => {
    const { city } = world;
    const [caseId] = (await city.db.ownerQuery<{ case_id: string }>(`SELECT case_id FROM transfer_request WHERE message_key = 'UNIT-connector'`)).rows.map(
      (r) => r.case_id,
    );
    const [request] = (await getCase(caseId)).transfers as Array<{ requestId: string; reference: string }>;
    await city.gateway.http
      .post(`/v1/cases/${caseId}/transfers/${request.requestId}/resend`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    // Resent, the request is pending again: only the connector's status (sent again from its inbox) completes it.
    const again = await eventually(
      'the resent request completed again',
      async () => (await getCase(caseId)).transfers.find((t: { requestId: string }) => t.requestId === request.requestId),
      { until: (t) => t.state === 'completed' },
    );
    expect(again.reference).toBe(request.reference);
    const inbox = new ConnectorInbox(config.connector.member!.inbox);
    try {
      expect(inbox.entry(request.requestId)?.redeliveries).toBe(1);
    } finally {
      inbox.close();
    }
    expect((await waterRequests()).filter((r) => r.accountNumber === 'W-connector')).toEqual([expect.objectContaining({ calls: 1 })]);
    expect((await connector.http.get('/metrics').expect(200)).text).toMatch(/^datarun_connector_inbox_duplicates_total 1$/m);
  });

  it('answers a rejection to its own send only: a plain redelivery is skipped, a resend after the cause is fixed is applied', async () => {
    const { city } = world;
    const certificate = certificateOf('connector-closed');
    const account = 'CLOSED-connector';
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(
        transferCaseBody(world, {
          matter: MATTER,
          unit: 'UNIT-connector-closed',
          accounts: { water: account },
          materials: [{ type: 'property-certificate', sha256: sha256(certificate) }],
        }),
      )
      .expect(201);
    const caseId: string = opened.body.id;
    await city.gateway.http
      .put(`/v1/cases/${caseId}/materials/property-certificate`)
      .set('authorization', await city.hall.auth())
      .set('content-type', 'application/pdf')
      .send(certificate)
      .expect(200);
    await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    const transfer = async () => (await getCase(caseId)).transfers[0] as { requestId: string; state: string; reference?: string };
    const rejected = await eventually('the closed account refused', transfer, { until: (t) => t.state === 'rejected' });
    const requestId = rejected.requestId;
    const inboxEntry = () => {
      const inbox = new ConnectorInbox(config.connector.member!.inbox);
      try {
        return inbox.entry(requestId);
      } finally {
        inbox.close();
      }
    };
    const firstSend = inboxEntry();
    expect(firstSend).toMatchObject({ outcome: { state: 'rejected', reason: expect.stringMatching(/closed/) }, redeliveries: 0 });

    // The account is fixed at the water company; the same send delivered again (a crash before its
    // offset was committed, a replay) is still that send's rejection, and reaches no system.
    await fetch(`${world.sandboxUrl}/v1/utilities/water/accounts/${account}/reopen`, { method: 'POST' }).then((r) => expect(r.status).toBe(204));
    const messaging = new KafkaMessaging(world.config.kafka);
    try {
      const seen: KafkaMessage[] = [];
      await messaging.consume({
        groupId: `closed-reader-${randomUUID()}`,
        topics: [requestTopic('water', 'transfer')],
        fromBeginning: true,
        onMessage: async ({ message }) => void seen.push(message),
      });
      const original = await eventually('the refused request on the topic', async () => seen.find((m) => fromKafkaMessage(m).id === requestId));
      await messaging.publish(requestTopic('water', 'transfer'), [{ key: original.key, value: original.value, headers: original.headers }]);
    } finally {
      await messaging.close();
    }
    await eventually('the redelivery skipped', inboxEntry, { until: (e) => e?.redeliveries === 1 });
    expect(inboxEntry()).toMatchObject({ outcome: firstSend!.outcome, send: firstSend!.send });
    expect((await waterRequests()).filter((r) => r.accountNumber === account)).toEqual([]);
    expect((await transfer()).state).toBe('rejected');

    // Sent again from its case (a send of its own), it reaches the system and completes.
    await city.gateway.http
      .post(`/v1/cases/${caseId}/transfers/${requestId}/resend`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    const completed = await eventually('the resent request completed', transfer, { until: (t) => t.state === 'completed' });
    expect(completed.reference).toMatch(/^W-/);
    expect((await waterRequests()).filter((r) => r.accountNumber === account)).toEqual([expect.objectContaining({ requestId, calls: 1 })]);
    const resent = inboxEntry();
    expect(resent).toMatchObject({ outcome: { state: 'completed', reference: completed.reference }, redeliveries: 0 });
    expect(resent!.send).not.toBe(firstSend!.send);
  });

  it('dead-letters a request addressed to another member on its topic, and applies nothing', async () => {
    const messaging = new KafkaMessaging(world.config.kafka);
    try {
      // A genuine request of this world, copied and readdressed to the gas company.
      const seen: CloudEvent[] = [];
      await messaging.consume({
        groupId: `misaddressed-reader-${randomUUID()}`,
        topics: [requestTopic('water', 'transfer')],
        fromBeginning: true,
        onMessage: async ({ message }) => void seen.push(fromKafkaMessage(message)),
      });
      const genuine = await eventually('a water request on the topic', async () => seen[0]);
      const id = randomUUID();
      const readdressed = { ...(genuine.data as Record<string, unknown>), requestId: id, recipient: world.utilities.gas.id, accountNumber: 'W-misaddressed' };
      await messaging.publish(requestTopic('water', 'transfer'), [
        toKafkaMessage(cloudEvent({ type: genuine.type, source: genuine.source, id, data: readdressed }), 'UNIT-misaddressed'),
      ]);
      const reasons = await eventually(
        'the readdressed request dead-lettered',
        async () =>
          (await world.city.db.ownerQuery<{ reason: string }>(`SELECT reason FROM dead_letter WHERE message_key = 'UNIT-misaddressed'`)).rows.map(
            (r) => r.reason,
          ),
        { until: (found) => found.length > 0 },
      );
      expect(reasons).toEqual([`request ${id} is for ${world.utilities.gas.id}, this connector receives for ${world.utilities.water.id}`]);
      expect((await waterRequests()).filter((r) => r.accountNumber === 'W-misaddressed')).toEqual([]);
    } finally {
      await messaging.close();
    }
  });

  it("as a department's connector, applies a benefit from its own topic in its own system", async () => {
    const { city } = world;
    const renshe = await registerMember(city.registry, city.admin, 'department', 'zj.test.renshe', uniqueMemberId('zj.test.renshe'), '测试市人社局', {
      delivery: 'kafka',
      requests: ['benefit'],
    });
    const keyFile = join(tmpdir(), `${renshe.id}.key.pem`);
    writeFileSync(keyFile, renshe.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const member = connectorMember(world.config, {
      id: renshe.id,
      privateKey: keyFile,
      keyId: renshe.kid,
      systemUrl: `${world.sandboxUrl}/v1/recipients/${renshe.id}`,
      inbox: ':memory:',
    });
    department = await bootApp(
      ConnectorModule.forRoot({
        ...world.config,
        connector: { ...world.config.connector, member },
        database: loadConfig({ DATABASE_URL: NOWHERE, DATABASE_OWNER_URL: NOWHERE }).database,
      }),
      'connector-renshe',
    );
    await city.registry.http
      .post('/v1/matters')
      .set('authorization', await city.admin.auth())
      .send({
        code: 'pension-subsidy-connector',
        title: '养老保险补贴',
        evidence: [],
        materials: ['allowance-decision'],
        onComplete: [
          {
            notify: renshe.id,
            request: 'benefit',
            benefit: 'pension-insurance-subsidy',
            fields: ['idNumber'],
            materials: ['allowance-decision'],
            holderRole: 'applicant',
          },
        ],
      })
      .expect(201);
    const applicant = city.people[3];
    const decision = Buffer.from('%PDF-1.7 养老保险补贴决定书');
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send({
        matter: 'pension-subsidy-connector',
        parties: [{ idNumber: applicant.idNumber, name: applicant.name, role: 'applicant' }],
        utilityAccounts: {},
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
    const [row] = (
      await city.db.ownerQuery<{ topic: string; request_id: string }>(`SELECT topic, request_id FROM transfer_request WHERE case_id = $1`, [caseId])
    ).rows;
    expect(row.topic).toBe(recipientTopic(renshe.id));

    const done = await eventually('the benefit completed', () => getCase(caseId), { until: (c) => c.progress.completed === 1 });
    expect(done.transfers[0]).toMatchObject({ request: 'benefit', state: 'completed', recipient: { id: renshe.id } });
    const applied = ((await fetch(`${world.sandboxUrl}/v1/recipients/${renshe.id}/requests`).then((r) => r.json())) as { requests: unknown[] })
      .requests as Array<{ requestId: string; benefit: string; beneficiary: Record<string, unknown>; calls: number; materials: unknown[] }>;
    expect(applied).toEqual([
      expect.objectContaining({
        requestId: row.request_id,
        benefit: 'pension-insurance-subsidy',
        calls: 1,
        // The entry names the ID number: this recipient receives it whole.
        beneficiary: expect.objectContaining({ name: applicant.name, idNumber: applicant.idNumber }),
        materials: [{ type: 'allowance-decision', contentType: 'application/pdf', size: decision.length, sha256: sha256(decision) }],
      }),
    ]);
    const fetched = await city.auditRows(`action = 'material.fetched' AND case_id = '${caseId}'`);
    expect(fetched.map((r) => r.member_id)).toEqual([renshe.id]);
  });
});
