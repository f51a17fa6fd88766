// The connector a partner runs (issue 16): Kafka, its own system and the gateway's material links,
// never datarun's database. Started here with DATABASE_URL at a port where nothing listens, it
// still consumes the water request through the real broker, fetches the certificate under the
// water member's own token (the gateway serves a link to its recipient only, and audits the fetch
// under that member), applies it in the sandbox's simulated water company, and its signed status
// completes the request. A redelivery is skipped by its SQLite inbox, its status sent again.
import { jest } from '@jest/globals';
import { type DatarunConfig, loadConfig } from '@datarun/config';
import { ConnectorInbox } from '@datarun/connector';
import { DataSource } from 'typeorm';
import { ConnectorModule } from '../../apps/connector/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { buildTransferWorld, certificateOf, sha256, transferCaseBody, type TransferWorld } from '../support/transfers.js';

jest.setTimeout(120_000);

const MATTER = 'water-move-connector';

describe("a connector with no access to datarun's database", () => {
  let world: TransferWorld;
  let connector: TestApp;
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
    // Nothing listens on port 1: any connection to "its database" would fail (and readiness would name it).
    const nowhere = 'postgres://datarun_app@127.0.0.1:1/nowhere';
    config = { ...world.connectorConfig('water'), database: loadConfig({ DATABASE_URL: nowhere, DATABASE_OWNER_URL: nowhere }).database };
    connector = await bootApp(ConnectorModule.forRoot(config), 'connector-water');
  });
  afterAll(async () => {
    await connector?.close();
    await world?.close();
  });

  it('is ready on Kafka and its own system alone, and holds no database connection', async () => {
    const ready = await connector.http.get('/health/ready').expect(200);
    expect(Object.keys(ready.body.details).sort()).toEqual(['kafka', 'utility-system']);
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
});
