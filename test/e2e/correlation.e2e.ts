// One correlation id end to end (docs/architecture.md, "The request context"): a service hall
// completes a property transfer sending a W3C traceparent; its trace id becomes the request's
// correlation id and follows the case through the outbox, the relay, the real broker, each connector
// (which fetches the certificate from the gateway and applies the request to the utility's system)
// and the statuses back, into every audit record and Kafka message on the way.
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { type CloudEvent, fromKafkaMessage, KafkaMessaging } from '@datarun/messaging';
import { requestTopic, STATUS_TOPIC } from '@datarun/transfers';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { registerMember, type TestMember } from '../support/members.js';
import { buildTransferWorld, openTransferCase, type TransferWorld, UTILITIES } from '../support/transfers.js';

jest.setTimeout(120_000);

describe('one correlation id from the window to the utilities and back', () => {
  let world: TransferWorld;
  let audit: TestApp;
  let auditor: TestMember;

  beforeAll(async () => {
    world = await buildTransferWorld();
    audit = await bootApp(AuditAppModule.forRoot(world.config), 'audit');
    auditor = await registerMember(world.city.registry, world.city.admin, 'auditor', 'zj.test.jiwei');
  });
  afterAll(async () => {
    await audit?.close();
    await world?.close();
  });

  it('follows the traceparent of POST /v1/cases/{id}/complete through the relay and the connectors to the statuses and the audit log', async () => {
    const { city } = world;
    const { caseId } = await openTransferCase(world, 'traced');
    const traceId = randomBytes(16).toString('hex');
    const completed = await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`)
      .expect(200);
    expect(completed.headers['x-request-id']).toBe(traceId);
    const requestIds: string[] = completed.body.transfers.map((t: { requestId: string }) => t.requestId);
    expect(requestIds).toHaveLength(UTILITIES.length);

    // The outbox rows keep it for the relay, which publishes after the request has answered.
    const outbox = await city.db.ownerQuery<{ correlation_id: string }>('SELECT correlation_id FROM transfer_request WHERE case_id = $1', [caseId]);
    expect(outbox.rows.map((r) => r.correlation_id)).toEqual(UTILITIES.map(() => traceId));

    await eventually(
      '3 of 3 completed',
      async () =>
        (
          await city.gateway.http
            .get(`/v1/cases/${caseId}`)
            .set('authorization', await city.hall.auth())
            .expect(200)
        ).body.progress,
      { until: (p: { completed: number }) => p.completed === 3 },
    );

    // On the wire: the utility's request and every status answering it carry it as ce_correlationid.
    const reader = new KafkaMessaging(world.config.kafka);
    const requests = new Map<string, CloudEvent>();
    const statuses: CloudEvent[] = [];
    try {
      await reader.consume({
        groupId: `correlation-reader-${Date.now()}`,
        topics: [requestTopic('water', 'transfer'), STATUS_TOPIC],
        onMessage: async ({ topic, message }) => {
          const event = fromKafkaMessage(message);
          if (topic === STATUS_TOPIC) statuses.push(event);
          else requests.set(event.id, event);
        },
      });
      const water = await eventually('the water request on its topic', () => [...requests.values()].find((e) => e.subject === caseId));
      expect(water.correlationid).toBe(traceId);
      const answering = await eventually(
        'accepted and completed from each utility',
        () => statuses.filter((s) => requestIds.includes((s.data as { requestId: string }).requestId)),
        { until: (found) => found.length >= 2 * UTILITIES.length },
      );
      expect(new Set(answering.map((s) => s.correlationid))).toEqual(new Set([traceId]));
    } finally {
      await reader.close();
    }

    // Each utility's own system was called under it (the connector's x-request-id and traceparent).
    for (const kind of UTILITIES) {
      const applied = (await fetch(`${world.sandboxUrl}/v1/utilities/${kind}/requests`).then((r) => r.json())) as {
        requests: Array<{ requestId: string; correlationId?: string }>;
      };
      expect(applied.requests.filter((r) => requestIds.includes(r.requestId)).map((r) => r.correlationId)).toEqual([traceId]);
    }

    // Every audit record the completion caused carries it, from the gateway, the relay and the connectors' fetches.
    const rows = await city.auditRows(`case_id = '${caseId}' AND action IN ('case.completed', 'transfer.requested', 'material.fetched', 'transfer.status')`);
    const byAction = (action: string) => rows.filter((r) => r.action === action);
    expect(byAction('case.completed')).toHaveLength(1);
    expect(byAction('transfer.requested')).toHaveLength(3);
    expect(byAction('material.fetched')).toHaveLength(3);
    expect(byAction('transfer.status').length).toBeGreaterThanOrEqual(6);
    expect(new Set(rows.map((r) => r.correlation_id))).toEqual(new Set([traceId]));
    // What the case's opening and upload did was other requests, with other ids.
    const earlier = await city.auditRows(`case_id = '${caseId}' AND action IN ('case.opened', 'material.uploaded')`);
    expect(earlier).toHaveLength(2);
    for (const r of earlier) expect(r.correlation_id).not.toBe(traceId);

    // And the auditor finds them by that id alone, each answer naming it.
    const found = await audit.http
      .get('/v1/audit/events')
      .query({ correlationId: traceId, limit: 1000 })
      .set('authorization', await auditor.auth())
      .expect(200);
    expect(found.body.items.map((i: { id: string }) => i.id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(new Set(found.body.items.map((i: { correlationId: string }) => i.correlationId))).toEqual(new Set([traceId]));
  });

  it('mints an id for a request that sends none, in trace-id form, and answers it in x-request-id and the problem body', async () => {
    const { city } = world;
    const missing = '00000000-0000-4000-8000-000000000000';
    const refused = await city.gateway.http
      .post(`/v1/cases/${missing}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(404);
    const minted = refused.headers['x-request-id'];
    expect(minted).toMatch(/^[0-9a-f]{32}$/);
    expect(refused.body).toMatchObject({ code: 'CASE_NOT_FOUND', correlationId: minted });
    const again = await city.gateway.http
      .post(`/v1/cases/${missing}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(404);
    expect(again.headers['x-request-id']).not.toBe(minted);
  });
});
