// The seed story of issue 8: a property transfer completes at the window, and water, electricity
// and gas move to the new owner through the outbox, the relay, the real broker and one connector
// per utility member, which fetch (under the member's token) and verify the submitted certificate;
// the case ends "3 of 3 completed".
import { jest } from '@jest/globals';
import { fromKafkaMessage, KafkaMessaging } from '@datarun/messaging';
import { SUBSISTENCE_ALLOWANCE } from '@datarun/registry';
import { EVENT_TYPES, MaterialLinks, materialLinksOf, requestTopic, signedEventMessage, STATUS_TOPIC } from '@datarun/transfers';
import { eventually } from '../support/eventually.js';
import { registerMember, uniqueMemberId } from '../support/members.js';
import {
  openAllowanceCase,
  openTransferCase,
  sha256,
  transferCaseBody,
  type TransferWorld,
  buildTransferWorld,
  UTILITIES,
  UTILITY_NAMES,
} from '../support/transfers.js';

jest.setTimeout(120_000);

const byUtility = (a: { utility: string }, b: { utility: string }) => a.utility.localeCompare(b.utility);

describe('property transfer propagates to the utilities', () => {
  let world: TransferWorld;
  const getCase = async (id: string) =>
    (
      await world.city.gateway.http
        .get(`/v1/cases/${id}`)
        .set('authorization', await world.city.hall.auth())
        .expect(200)
    ).body;
  const sandboxRequests = async (kind: string) =>
    ((await fetch(`${world.sandboxUrl}/v1/utilities/${kind}/requests`).then((r) => r.json())) as { requests: unknown }).requests as Array<{
      requestId: string;
      calls: number;
      accountNumber: string;
      materials: Array<{ type: string; contentType: string; size: number; sha256: string }>;
    }>;
  const rows = async (sql: string, params: unknown[] = []) => (await world.city.db.ownerQuery(sql, params)).rows;

  beforeAll(async () => {
    world = await buildTransferWorld({ env: { TRANSFER_FOLLOW_UP_SECONDS: '3' } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('refuses to complete until the routed material is uploaded, storing nothing', async () => {
    const { city } = world;
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(
        transferCaseBody(world, {
          unit: 'UNIT-refused',
          address: '演示市 1 号',
          accounts: { water: 'W-1', electricity: 'E-1' },
          materials: [{ type: 'property-certificate', sha256: sha256(Buffer.from('the real one')) }],
        }),
      )
      .expect(201);
    const id = opened.body.id;
    const refused = await city.gateway.http
      .post(`/v1/cases/${id}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(400);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.code).toBe('VALIDATION_FAILED');
    expect(refused.body.detail).toContain('utilityAccounts.gas');
    expect(refused.body.detail).toContain('material property-certificate');

    const wrong = await city.gateway.http
      .put(`/v1/cases/${id}/materials/property-certificate`)
      .set('authorization', await city.hall.auth())
      .set('content-type', 'application/pdf')
      .send(Buffer.from('a forgery'))
      .expect(400);
    expect(wrong.body.code).toBe('MATERIAL_HASH_MISMATCH');
    const text = await city.gateway.http
      .put(`/v1/cases/${id}/materials/property-certificate`)
      .set('authorization', await city.hall.auth())
      .set('content-type', 'text/plain')
      .send('the real one');
    expect(text.status).toBe(415);
    await city.gateway.http
      .put(`/v1/cases/${id}/materials/undeclared`)
      .set('authorization', await city.hall.auth())
      .set('content-type', 'application/pdf')
      .send(Buffer.from('x'))
      .expect(404);

    expect(await rows('SELECT * FROM transfer_request WHERE case_id = $1', [id])).toHaveLength(0);
    expect(await rows('SELECT * FROM case_material WHERE case_id = $1', [id])).toHaveLength(0);
    expect((await getCase(id)).state).toBe('open');
  });

  it('completes, publishes one minimised request per utility, and reaches 3 of 3 completed', async () => {
    const { city } = world;
    const buyer = city.people[1];
    const { caseId, certificate, accounts } = await openTransferCase(world, 'story');

    const completed = await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    expect(completed.body.state).toBe('completed');
    expect(completed.body.transfers.map((t: { utility: string }) => t.utility).sort()).toEqual([...UTILITIES].sort());
    const again = await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    expect(again.body.transfers.map((t: { requestId: string }) => t.requestId).sort()).toEqual(
      completed.body.transfers.map((t: { requestId: string }) => t.requestId).sort(),
    );
    expect(await rows('SELECT * FROM transfer_request WHERE case_id = $1', [caseId])).toHaveLength(3);

    const done = await eventually('3 of 3 completed', () => getCase(caseId), { until: (c) => c.progress.completed === 3 });
    expect(done.progress.summary).toBe('3 of 3 completed');
    for (const t of done.transfers) {
      expect(t).toMatchObject({ state: 'completed', followUp: false });
      expect(t.reference).toMatch(/^[WEG]-/);
      expect(Date.parse(t.updatedAt)).toBeGreaterThanOrEqual(Date.parse(t.publishedAt));
    }
    // Every recipient's progress names the registered member it went to, and what it was asked.
    expect(
      done.transfers
        .map((t: { utility: string; recipient: unknown; request: string; state: string }) => ({
          utility: t.utility,
          recipient: t.recipient,
          request: t.request,
          state: t.state,
        }))
        .sort(byUtility),
    ).toEqual(
      UTILITIES.map((kind) => ({
        utility: kind,
        recipient: { id: world.utilities[kind].id, name: UTILITY_NAMES[kind] },
        request: 'transfer',
        state: 'completed',
      })).sort(byUtility),
    );

    // Each utility's own system moved the account to the buyer, once.
    for (const kind of UTILITIES) {
      const account = (await fetch(`${world.sandboxUrl}/v1/utilities/${kind}/accounts/${accounts[kind]}`).then((r) => r.json())) as { holder: unknown };
      expect(account.holder).toEqual({ name: buyer.name, idNumberMasked: `${buyer.idNumber.slice(0, 6)}********${buyer.idNumber.slice(-4)}` });
      const applied = (await sandboxRequests(kind)).filter((r) => r.accountNumber === accounts[kind]);
      expect(applied).toHaveLength(1);
      expect(applied[0].calls).toBe(1);
      // The certificate itself arrived: the SHA-256 the utility computed from the bytes it received.
      expect(applied[0].materials).toEqual([
        { type: 'property-certificate', contentType: 'application/pdf', size: certificate.length, sha256: sha256(certificate) },
      ]);
      const kept = await fetch(`${world.sandboxUrl}/v1/utilities/${kind}/requests/${applied[0].requestId}/materials/property-certificate`);
      expect(kept.status).toBe(200);
      expect(kept.headers.get('content-type')).toBe('application/pdf');
      expect(Buffer.from(await kept.arrayBuffer()).equals(certificate)).toBe(true);
    }

    // Audited: each request produced, each status consumed, each material fetched.
    const audit = await city.auditRows(`case_id = '${caseId}'`);
    const count = (action: string) => audit.filter((r) => r.action === action).length;
    expect(count('transfer.requested')).toBe(3);
    expect(count('material.fetched')).toBe(3);
    expect(count('transfer.status')).toBeGreaterThanOrEqual(6); // accepted and completed from each
    expect(
      audit
        .filter((r) => r.action === 'transfer.requested')
        .map((r) => r.object_ref)
        .sort(),
    ).toEqual(done.transfers.map((t: { requestId: string }) => `transfer:${t.requestId}`).sort());
  });

  it('puts on the topic what the utility needs and no more, keyed by the property unit', async () => {
    const { caseId } = await openTransferCase(world, 'wire', 'UNIT-wire-1');
    await world.city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    const messaging = new KafkaMessaging(world.config.kafka);
    const seen: Array<{ key: string; event: ReturnType<typeof fromKafkaMessage> }> = [];
    try {
      await messaging.consume({
        groupId: `wire-reader-${Date.now()}`,
        topics: [requestTopic('water', 'transfer')],
        onMessage: async ({ message }) => {
          seen.push({ key: message.key!.toString(), event: fromKafkaMessage(message) });
        },
      });
      const mine = await eventually('the water request on the topic', async () => seen.find((s) => (s.event.data as { caseId: string }).caseId === caseId));
      expect(mine.key).toBe('UNIT-wire-1');
      expect(mine.event.type).toBe('datarun.utility.transfer-requested.v1');
      expect(mine.event.source).toBe('datarun.relay');
      const data = mine.event.data as Record<string, unknown>;
      expect(mine.event.id).toBe(data.requestId);
      expect(Object.keys(data).sort()).toEqual([
        'accountNumber',
        'caseId',
        'effectiveDate',
        'materials',
        'newHolder',
        'property',
        'recipient',
        'request',
        'requestId',
        'sequence',
        'utility',
      ]);
      expect(data.recipient).toBe(world.utilities.water.id);
      // Its place in the order of requests: the outbox row's position.
      const [{ seq }] = (await world.city.db.ownerQuery<{ seq: string }>('SELECT seq FROM transfer_request WHERE request_id = $1', [data.requestId])).rows;
      expect(data.sequence).toBe(Number(seq));
      expect(JSON.stringify(data)).not.toContain(world.city.people[1].idNumber); // masked, never whole
      expect(JSON.stringify(data)).not.toContain(world.city.people[0].idNumber); // the seller is not the utility's business
      const [material] = data.materials as Array<{ type: string; sha256: string; url: string }>;
      expect(Object.keys(material).sort()).toEqual(['sha256', 'type', 'url']);

      // The link is the permission, fetched by its recipient under its own token: it works as
      // issued, not without the token, not altered, not for another recipient, not once expired.
      const [water, gas] = [world.utilities.water, world.utilities.gas];
      const as = async (member: typeof water) => ({ headers: { authorization: await member.auth('system') } });
      const ok = await fetch(material.url, await as(water));
      expect(ok.status).toBe(200);
      expect(sha256(Buffer.from(await ok.arrayBuffer()))).toBe(material.sha256);
      expect((await fetch(material.url)).status).toBe(401);
      const otherRecipient = await fetch(material.url, await as(gas));
      expect(otherRecipient.status).toBe(403);
      expect(((await otherRecipient.json()) as { code: string }).code).toBe('LINK_INVALID');
      const url = new URL(material.url);
      expect(url.searchParams.get('to')).toBe(water.id);
      const retargeted = new URL(url);
      retargeted.searchParams.set('to', gas.id);
      const altered = await fetch(retargeted, await as(gas));
      expect(altered.status).toBe(403);
      expect(((await altered.json()) as { code: string }).code).toBe('LINK_INVALID');
      const links: MaterialLinks = materialLinksOf(world.config);
      const materialId = url.pathname.split('/').pop()!;
      const expired = links.url({ materialId, requestId: url.searchParams.get('req')!, recipient: water.id, expiresAt: Math.floor(Date.now() / 1000) - 1 });
      const late = await fetch(expired, await as(water));
      expect(late.status).toBe(403);
      expect(((await late.json()) as { code: string }).code).toBe('LINK_EXPIRED');
    } finally {
      await messaging.close();
    }
  });

  it('re-sends a request under the same id: the inbox answers it without applying it again', async () => {
    const { caseId, accounts } = await openTransferCase(world, 'resend');
    const completed = await world.city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    await eventually('first delivery', async () => (await getCase(caseId)).progress, { until: (p) => p.completed === 3 });
    const gas = completed.body.transfers.find((t: { utility: string }) => t.utility === 'gas');

    const resent = await world.city.gateway.http
      .post(`/v1/cases/${caseId}/transfers/${gas.requestId}/resend`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    expect(resent.body.transfers.find((t: { requestId: string }) => t.requestId === gas.requestId).state).toBe('pending');
    await eventually(
      'the resent request completed again',
      async () => (await getCase(caseId)).transfers.find((x: { requestId: string }) => x.requestId === gas.requestId),
      { until: (t) => t.state === 'completed' },
    );
    // The gas connector's own inbox (its SQLite file) skipped the redelivery and sent its status again.
    const inbox = world.inboxOf('gas');
    try {
      expect(inbox.entry(gas.requestId)).toMatchObject({ outcome: { state: 'completed' }, redeliveries: expect.any(Number) });
      expect(inbox.entry(gas.requestId)!.redeliveries).toBeGreaterThanOrEqual(1);
    } finally {
      inbox.close();
    }
    expect((await sandboxRequests('gas')).filter((r) => r.accountNumber === accounts.gas)).toEqual([expect.objectContaining({ calls: 1 })]);
    await world.city.gateway.http
      .post(`/v1/cases/${caseId}/transfers/00000000-0000-4000-8000-000000000000/resend`)
      .set('authorization', await world.city.hall.auth())
      .expect(404);
  });

  it('routes the 低保 matter as data: discounts to water and electricity, keyed by account', async () => {
    const { city } = world;
    const id = await openAllowanceCase(world, city.people[2], { water: 'W-dibao-1', electricity: 'E-dibao-1', gas: 'G-dibao-1' }, 'story');
    const completed = await city.gateway.http
      .post(`/v1/cases/${id}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    expect(completed.body.transfers.map((t: { utility: string; request: string }) => `${t.utility}/${t.request}`).sort()).toEqual([
      'electricity/discount',
      'water/discount',
    ]);
    const [row] = await rows(`SELECT topic, message_key FROM transfer_request WHERE case_id = $1 AND utility = 'water'`, [id]);
    expect(row).toEqual({ topic: 'datarun.utility.water.discount-requested.v1', message_key: 'W-dibao-1' });

    const done = await eventually('2 of 2 completed', () => getCase(id), { until: (c) => c.progress.completed === 2 });
    expect(done.progress.summary).toBe('2 of 2 completed');
    expect(
      done.transfers
        .map((t: { utility: string; recipient: unknown; request: string }) => ({ utility: t.utility, recipient: t.recipient, request: t.request }))
        .sort(byUtility),
    ).toEqual(
      (['electricity', 'water'] as const).map((kind) => ({
        utility: kind,
        recipient: { id: world.utilities[kind].id, name: UTILITY_NAMES[kind] },
        request: 'discount',
      })),
    );
    const water = (await fetch(`${world.sandboxUrl}/v1/utilities/water/accounts/W-dibao-1`).then((r) => r.json())) as { discounts: string[] };
    expect(water.discounts).toEqual([SUBSISTENCE_ALLOWANCE.code]);
    expect((await fetch(`${world.sandboxUrl}/v1/utilities/gas/accounts/G-dibao-1`)).status).toBe(404);
  });

  it('flags a request no utility answers for follow-up, and shows backlog and lag on /metrics', async () => {
    const { city } = world;
    // The heating company is registered as the heat kind's recipient, but runs no connector.
    const heat = await registerMember(city.registry, city.admin, 'utility', 'zj.test.heat', uniqueMemberId('zj.test.heat'), '测试市热力公司', {
      delivery: 'kafka',
      requests: ['transfer'],
      utilityKind: 'heat',
    });
    await city.registry.http
      .post('/v1/matters')
      .set('authorization', await city.admin.auth())
      .send({
        code: 'heating-transfer',
        title: '供热过户',
        evidence: [],
        materials: [],
        onComplete: [{ notify: 'heat', request: 'transfer', holderRole: 'buyer' }],
      })
      .expect(201);
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(transferCaseBody(world, { matter: 'heating-transfer', unit: 'UNIT-heat', address: '演示市 9 号', accounts: { heat: 'H-1' } }))
      .expect(201);
    await city.gateway.http
      .post(`/v1/cases/${opened.body.id}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    const published = await eventually('published to a utility with no connector', () => getCase(opened.body.id), {
      until: (c) => c.transfers[0].state === 'published',
    });
    expect(published.transfers[0].followUp).toBe(false);
    const flagged = await eventually('flagged for follow-up', () => getCase(opened.body.id), {
      until: (c) => c.transfers[0].followUp,
      timeoutMs: 15_000,
      everyMs: 250,
    });
    expect(flagged.progress.summary).toBe('0 of 1 completed, 1 need follow-up');
    expect(flagged.transfers[0]).toMatchObject({ utility: 'heat', recipient: { id: heat.id, name: '测试市热力公司' }, request: 'transfer', followUp: true });

    const relayMetrics = (await world.relays[0].http.get('/metrics').expect(200)).text;
    expect(relayMetrics).toMatch(/^datarun_transfers_overdue [1-9]/m);
    expect(relayMetrics).toMatch(/^datarun_outbox_backlog 0$/m);
    const connectorMetrics = (await world.connectors.get('water')!.http.get('/metrics').expect(200)).text;
    expect(connectorMetrics).toContain(
      `datarun_kafka_consumer_lag{group="datarun-connector-${world.utilities.water.id}",topic="datarun.utility.water.transfer-requested.v1"} 0\n`,
    );
    expect(connectorMetrics).toMatch(/^datarun_connector_requests_total\{outcome="completed"\} [1-9]/m);
  });

  it('dead-letters a request whose material no longer matches its hash, and applies nothing', async () => {
    const { caseId, accounts } = await openTransferCase(world, 'tampered');
    // Someone alters the stored bytes after the upload: the hash in the request is the declared one.
    await world.city.db.ownerQuery(`UPDATE case_material SET bytes = $2 WHERE case_id = $1`, [caseId, Buffer.from('%PDF-1.7 altered')]);
    const completed = await world.city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    const ids = completed.body.transfers.map((t: { requestId: string }) => t.requestId);
    const letters = await eventually(
      'three dead letters',
      () => rows(`SELECT reason, dead_lettered_by FROM dead_letter WHERE reason LIKE 'MATERIAL_HASH_MISMATCH%' AND message_key = $1`, ['UNIT-tampered']),
      { until: (found) => found.length === 3 },
    );
    expect(letters.map((l) => l.dead_lettered_by).sort()).toEqual(UTILITIES.map((k) => `datarun.connector.${world.utilities[k].id}`).sort());
    // Received (accepted) but never applied: the case keeps them open, for follow-up.
    await eventually('all three accepted', async () => (await getCase(caseId)).transfers.map((t: { state: string }) => t.state), {
      until: (states) => states.every((state: string) => state === 'accepted'),
    });
    for (const kind of UTILITIES) expect((await sandboxRequests(kind)).some((r) => r.accountNumber === accounts[kind])).toBe(false);
    for (const kind of UTILITIES) {
      const inbox = world.inboxOf(kind);
      expect(ids.filter((id: string) => inbox.entry(id))).toEqual([]);
      inbox.close();
    }
  });

  it('dead-letters a malformed status and a status for no known request, and carries on', async () => {
    const messaging = new KafkaMessaging(world.config.kafka);
    try {
      // Signed by the water company itself, but for a request nobody made.
      const water = world.utilities.water;
      const requestId = '00000000-0000-4000-8000-00000000abcd';
      const stranger = await signedEventMessage({
        member: water.id,
        kid: water.kid,
        privateKey: water.privateKey,
        topic: STATUS_TOPIC,
        type: EVENT_TYPES.status,
        key: requestId,
        data: { requestId, utility: 'water', state: 'completed', reference: 'W-x' },
      });
      await messaging.publish(STATUS_TOPIC, [{ key: 'bad-status', value: '{"requestId":' }, stranger]);
    } finally {
      await messaging.close();
    }
    const letters = await eventually(
      'two status dead letters',
      () => rows(`SELECT reason, dead_lettered_by FROM dead_letter WHERE topic = $1 ORDER BY dlq_offset`, [STATUS_TOPIC]),
      { until: (found) => found.length >= 2 },
    );
    expect(letters.map((l) => l.dead_lettered_by)).toEqual(['relay', 'relay']);
    // Keyed differently, the two may sit on different partitions: no order between them.
    expect(letters.map((l) => l.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/not a CloudEvents 1\.0 binary-mode message/),
        'status for unknown request 00000000-0000-4000-8000-00000000abcd',
      ]),
    );
    // The consumer carries on: a transfer completes afterwards.
    const { caseId } = await openTransferCase(world, 'after-bad-status');
    await world.city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    await eventually('3 of 3 after the bad statuses', async () => (await getCase(caseId)).progress, { until: (p) => p.completed === 3 });
  });
});
