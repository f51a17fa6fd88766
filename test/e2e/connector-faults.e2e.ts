// The connector under faults of what it delivers to (issue 17, items 2 and 3), through the real
// broker, gateway, relay and the sandbox's simulated companies:
// - one account whose system answers 503 on every try does not hold up the requests behind it: with
//   the production retry settings it is set aside and retried (each failure proven by its inbox),
//   never dead-lettered, and applies once the account is repaired;
// - a request that fails for its whole budget is parked (visible in metrics and the inbox, no more
//   tries) until an operator resumes it;
// - links that expired before the connector took its request are renewed on delivery (the relay
//   here issues links that are already out of date), not dead-lettered;
// - resends in the wrong order cannot move a property's holder backwards: the older transfer is
//   reported superseded and never reaches the system.
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import type { DatarunConfig } from '@datarun/config';
import { fromKafkaMessage, KafkaMessaging } from '@datarun/messaging';
import { requestTopic } from '@datarun/transfers';
import { ConnectorModule } from '../../apps/connector/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { buildTransferWorld, openTransferCase, type TransferWorld } from '../support/transfers.js';

jest.setTimeout(180_000);

interface TransferView {
  requestId: string;
  utility: string;
  state: string;
  reference?: string;
  reason?: string;
}

/** A matter that notifies one utility kind of a transfer, with the certificate. */
async function registerMatter(world: TransferWorld, code: string, kind: string): Promise<void> {
  await world.city.registry.http
    .post('/v1/matters')
    .set('authorization', await world.city.admin.auth())
    .send({
      code,
      title: `过户（仅${kind}）`,
      evidence: [],
      materials: ['property-certificate'],
      onComplete: [{ notify: kind, request: 'transfer', materials: ['property-certificate'], holderRole: 'buyer' }],
    })
    .expect(201);
}

/** Opens, supplies and completes a transfer case of `unit` to one utility kind's `account`; its case id and its one request. */
async function completeTransfer(
  world: TransferWorld,
  o: { matter: string; unit: string; account: string; kind: string; buyer?: number },
): Promise<{ caseId: string; requestId: string }> {
  const { caseId } = await openTransferCase(world, `${o.unit}-${o.account}-${randomUUID()}`, o.unit, {
    matter: o.matter,
    accounts: { [o.kind]: o.account },
    buyer: o.buyer,
  });
  const completed = await world.city.gateway.http
    .post(`/v1/cases/${caseId}/complete`)
    .set('authorization', await world.city.hall.auth())
    .expect(200);
  return { caseId, requestId: (completed.body.transfers as TransferView[])[0].requestId };
}

async function transferOf(world: TransferWorld, caseId: string): Promise<TransferView> {
  const res = await world.city.gateway.http
    .get(`/v1/cases/${caseId}`)
    .set('authorization', await world.city.hall.auth())
    .expect(200);
  return (res.body.transfers as TransferView[])[0];
}

const deadLettersOf = async (world: TransferWorld, keys: readonly string[]) =>
  (await world.city.db.ownerQuery<{ message_key: string; reason: string }>(`SELECT message_key, reason FROM dead_letter WHERE message_key = ANY($1)`, [keys]))
    .rows;

describe('a connector whose system fails on one account', () => {
  let world: TransferWorld;
  let gas: TestApp;
  let gasConfig: DatarunConfig;

  beforeAll(async () => {
    world = await buildTransferWorld({ connectors: ['water'] });
    await registerMatter(world, 'water-move-faults', 'water');
    await registerMatter(world, 'gas-move-faults', 'gas');
    // The gas company's connector gives up after a budget of two seconds (the default is a day).
    const base = world.connectorConfig('gas');
    gasConfig = { ...base, connector: { ...base.connector, retry: { baseMs: 200, maxMs: 400, budgetMs: 2000 } } };
    gas = await bootApp(ConnectorModule.forRoot(gasConfig), 'connector-gas');
  });
  afterAll(async () => {
    await gas?.close();
    await world?.close();
  });

  it('retries that account on its own schedule while the requests behind it complete, and applies it once repaired', async () => {
    const water = world.connectors.get('water')!;
    expect(world.connectorConfig('water').connector.retry).toEqual({ baseMs: 1000, maxMs: 300_000, budgetMs: 86_400_000 });
    const failing = await completeTransfer(world, { matter: 'water-move-faults', unit: 'UNIT-failing', account: 'FAILING-1', kind: 'water' });
    // Behind it, on the same recipient (and partitions), five requests for other properties.
    const others = [];
    for (let i = 0; i < 5; i += 1) {
      others.push(await completeTransfer(world, { matter: 'water-move-faults', unit: `UNIT-flowing-${i}`, account: `W-flowing-${i}`, kind: 'water' }));
    }
    for (const other of others) {
      await eventually(`request of ${other.caseId} completed`, () => transferOf(world, other.caseId), { until: (t) => t.state === 'completed' });
    }
    // The fault happened, more than once, and the request waits in the inbox file, not in Kafka.
    const inbox = world.inboxOf('water');
    try {
      const held = await eventually('the failing request tried twice', async () => inbox.deferred(failing.requestId), {
        until: (d) => (d?.attempts ?? 0) >= 2,
      });
      expect(held).toMatchObject({ parkedAt: null, lastError: expect.stringMatching(/503 .*fails on account FAILING-1/) });
    } finally {
      inbox.close();
    }
    expect((await transferOf(world, failing.caseId)).state).toBe('accepted');
    expect((await water.http.get('/metrics').expect(200)).text).toMatch(/^datarun_connector_deferred_requests\{state="retrying"\} 1$/m);

    await fetch(`${world.sandboxUrl}/v1/utilities/water/accounts/FAILING-1/reopen`, { method: 'POST' }).then((r) => expect(r.status).toBe(204));
    const done = await eventually('the repaired account applied', () => transferOf(world, failing.caseId), {
      until: (t) => t.state === 'completed',
      timeoutMs: 60_000,
    });
    expect(done.reference).toMatch(/^W-/);
    expect(await deadLettersOf(world, ['UNIT-failing', ...others.map((_, i) => `UNIT-flowing-${i}`)])).toEqual([]);
    expect((await water.http.get('/metrics').expect(200)).text).toMatch(/^datarun_connector_deferred_requests\{state="retrying"\} 0$/m);
  });

  it('sets aside a request its system answers later than the connector waits, and applies it once in the end', async () => {
    // The water company takes 6 s, the connector waits 5 s: the company applies what the connector gave up on.
    await fetch(`${world.sandboxUrl}/v1/utilities/water/latency`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: 6000 }),
    }).then((r) => expect(r.status).toBe(204));
    let slow: { caseId: string; requestId: string };
    const inbox = world.inboxOf('water');
    try {
      slow = await completeTransfer(world, { matter: 'water-move-faults', unit: 'UNIT-slow', account: 'W-slow', kind: 'water' });
      const held = await eventually('the slow request set aside', async () => inbox.deferred(slow.requestId), {
        until: (d) => d !== undefined,
        timeoutMs: 20_000,
      });
      expect(held!.lastError).toMatch(/cannot reach the recipient's system/);
    } finally {
      inbox.close();
      await fetch(`${world.sandboxUrl}/v1/utilities/water/latency`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ms: 0 }),
      });
    }
    const done = await eventually('the slow request completed', () => transferOf(world, slow.caseId), {
      until: (t) => t.state === 'completed',
      timeoutMs: 60_000,
    });
    expect(done.reference).toMatch(/^W-/);
    // Applied once, called twice: the call the connector gave up on still applies it when its 6 s are
    // up, and the retry's call finds it applied (the system's idempotency key), in either order.
    const calls = await eventually(
      'both calls at the company',
      async () =>
        (
          (await fetch(`${world.sandboxUrl}/v1/utilities/water/requests`).then((r) => r.json())) as {
            requests: Array<{ requestId: string; calls: number; reference: string }>;
          }
        ).requests.filter((r) => r.requestId === slow.requestId),
      { until: (found) => found.length === 1 && found[0].calls >= 2, timeoutMs: 15_000 },
    );
    expect(calls).toEqual([expect.objectContaining({ reference: done.reference })]);
  });

  it('parks a request that failed for its whole budget, tries it no more, and applies it once resumed', async () => {
    const failing = await completeTransfer(world, { matter: 'gas-move-faults', unit: 'UNIT-parked', account: 'FAILING-gas', kind: 'gas' });
    const inbox = world.inboxOf('gas');
    try {
      const parked = await eventually('the request parked', async () => inbox.deferred(failing.requestId), { until: (d) => d?.parkedAt != null });
      expect(parked!.attempts).toBeGreaterThanOrEqual(2);
      expect((await gas.http.get('/metrics').expect(200)).text).toMatch(/^datarun_connector_deferred_requests\{state="parked"\} 1$/m);
      // Parked: no more tries, even with the account repaired, until an operator resumes it.
      await fetch(`${world.sandboxUrl}/v1/utilities/gas/accounts/FAILING-gas/reopen`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 1000));
      expect(inbox.deferred(failing.requestId)).toMatchObject({ attempts: parked!.attempts, parkedAt: parked!.parkedAt });
      expect((await transferOf(world, failing.caseId)).state).toBe('accepted');

      expect(inbox.resume(failing.requestId)).toEqual([failing.requestId]);
    } finally {
      inbox.close();
    }
    const done = await eventually('the resumed request completed', () => transferOf(world, failing.caseId), { until: (t) => t.state === 'completed' });
    expect(done.reference).toMatch(/^G-/);
    expect(await deadLettersOf(world, ['UNIT-parked'])).toEqual([]);
  });
});

describe('a connector taking requests late and out of order', () => {
  let world: TransferWorld;
  let relay: TestApp;

  beforeAll(async () => {
    world = await buildTransferWorld({ connectors: [], relay: false });
    await registerMatter(world, 'water-move-order', 'water');
    // Every link this relay issues has run out before it is published: as if the request had
    // waited in Kafka longer than MATERIAL_LINK_TTL_SECONDS for a stopped connector.
    relay = await bootApp(RelayModule.forRoot({ ...world.config, transfers: { ...world.config.transfers, materialLinkTtlSeconds: -60 } }), 'relay');
    world.relays.push(relay);
    await world.startConnector('water');
  });
  afterAll(() => world?.close());

  it('renews an expired material link on delivery instead of dead-lettering the request', async () => {
    const { caseId, requestId } = await completeTransfer(world, { matter: 'water-move-order', unit: 'UNIT-late', account: 'W-late', kind: 'water' });
    const done = await eventually('the late request completed', () => transferOf(world, caseId), { until: (t) => t.state === 'completed' });
    expect(done.reference).toMatch(/^W-/);
    // The fault: the link the connector received had expired before it was published.
    const messaging = new KafkaMessaging(world.config.kafka);
    try {
      const seen: Array<{ id: string; data: { materials: Array<{ url: string }> } }> = [];
      await messaging.consume({
        groupId: `expired-reader-${randomUUID()}`,
        topics: [requestTopic('water', 'transfer')],
        fromBeginning: true,
        onMessage: async ({ message }) => void seen.push(fromKafkaMessage(message) as never),
      });
      const sent = await eventually('the request on the topic', async () => seen.find((e) => e.id === requestId));
      const exp = Number(new URL(sent.data.materials[0].url).searchParams.get('exp'));
      expect(exp * 1000).toBeLessThan(Date.now());
    } finally {
      await messaging.close();
    }
    // …and the material reached the company all the same, fetched once, under the water member.
    const fetched = await world.city.auditRows(`action = 'material.fetched' AND case_id = '${caseId}'`);
    expect(fetched.map((r) => [r.member_id, r.decision])).toEqual([[world.utilities.water.id, 'allowed']]);
    expect(await deadLettersOf(world, ['UNIT-late'])).toEqual([]);
  });

  it('reports the older of two transfers of a property superseded when resends come in the wrong order', async () => {
    const { city } = world;
    const unit = 'UNIT-order';
    const account = 'CLOSED-order';
    // A→B, then B→C, both refused while the account is closed.
    const first = await completeTransfer(world, { matter: 'water-move-order', unit, account, kind: 'water', buyer: 1 });
    await eventually('A→B refused', () => transferOf(world, first.caseId), { until: (t) => t.state === 'rejected' });
    const second = await completeTransfer(world, { matter: 'water-move-order', unit, account, kind: 'water', buyer: 2 });
    await eventually('B→C refused', () => transferOf(world, second.caseId), { until: (t) => t.state === 'rejected' });
    await fetch(`${world.sandboxUrl}/v1/utilities/water/accounts/${account}/reopen`, { method: 'POST' }).then((r) => expect(r.status).toBe(204));

    // The clerk resends the newer first, then the older.
    const resend = async (c: { caseId: string; requestId: string }) =>
      city.gateway.http
        .post(`/v1/cases/${c.caseId}/transfers/${c.requestId}/resend`)
        .set('authorization', await city.hall.auth())
        .expect(200);
    await resend(second);
    await eventually('B→C applied', () => transferOf(world, second.caseId), { until: (t) => t.state === 'completed' });
    await resend(first);
    const superseded = await eventually('A→B superseded', () => transferOf(world, first.caseId), { until: (t) => t.state === 'superseded' });
    expect(superseded.reason).toContain(second.requestId);

    // The company's account went to C and never back to B.
    const holder = (await fetch(`${world.sandboxUrl}/v1/utilities/water/accounts/${account}`).then((r) => r.json())) as {
      holder: { name: string };
      history: string[];
    };
    expect(holder.history).toEqual([second.requestId]);
    expect(holder.holder.name).toBe(city.people[2].name);
    const statuses = await city.auditRows(`action = 'transfer.status' AND case_id = '${first.caseId}'`);
    expect(statuses.map((r) => r.reason)).toContainEqual(expect.stringMatching(/^superseded/));
  });
});
