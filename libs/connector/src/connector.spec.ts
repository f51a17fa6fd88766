import { randomUUID } from 'node:crypto';
import { loadConfig } from '@datarun/config';
import { cloudEvent, fromKafkaMessage, type KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { EVENT_TYPES, recipientTopic, requestTopic, type TransferStatus } from '@datarun/transfers';
import type { EachMessagePayload, Message } from '@datarun/messaging';
import { Connector, retryDelayMs } from './connector.js';
import { ConnectorInbox } from './inbox.js';
import { RecipientRefusal, type RecipientSystem, TransientFailure } from './recipient-system.js';

const MEMBER = 'zj.test.renshe';

const WATER = 'zj.test.water';

/**
 * A connector with no key (statuses go out unsigned), its system answering `answer`: a department's,
 * or the water company's with `utilityKind`. `broker.down` makes every publish fail.
 */
function connectorAnswering(answer: RecipientSystem['apply'], env: Record<string, string> = {}, utilityKind?: string) {
  const published: Array<{ topic: string; message: Message }> = [];
  const broker = { down: false };
  const messaging = {
    publish: async (topic: string, messages: Message[]) => {
      if (broker.down) throw new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
      published.push(...messages.map((message) => ({ topic, message })));
    },
  } as unknown as KafkaMessaging;
  const inbox = new ConnectorInbox(':memory:');
  const member = {
    id: utilityKind ? WATER : MEMBER,
    ...(utilityKind ? { utilityKind } : {}),
    privateKey: '',
    keyId: '',
    systemUrl: 'http://127.0.0.1:1',
    inbox: ':memory:',
  };
  const metrics = new Metrics();
  const connector = new Connector(
    messaging,
    inbox,
    { apply: answer, probe: async () => ({}) },
    loadConfig(env),
    { member, signer: undefined, exitOnCrash: false },
    metrics,
  );
  const statuses = () => statusesOf(published.filter((p) => p.topic.endsWith('transfer-status.v1')).map((p) => p.message));
  const deadLetters = () => published.filter((p) => p.topic.includes('dead-letter'));
  return { connector, inbox, published, statuses, deadLetters, broker, metrics };
}

/** A water transfer of `unit` with its place in datarun's order. */
function transferDelivery(unit: string, sequence: number, correlationid = `corr-${sequence}`): EachMessagePayload {
  const requestId = randomUUID();
  const data = {
    requestId,
    caseId: randomUUID(),
    utility: 'water',
    recipient: WATER,
    request: 'transfer',
    accountNumber: `W-${unit}`,
    property: { unitNumber: unit, address: '测试市某路1号' },
    newHolder: { name: `买方${sequence}`, idNumberMasked: '110101********1234' },
    effectiveDate: '2026-12-01',
    materials: [],
    sequence,
  };
  const message = toKafkaMessage(cloudEvent({ id: requestId, type: EVENT_TYPES.transfer, source: 'datarun.relay', correlationid, data }), unit);
  return {
    topic: requestTopic('water', 'transfer'),
    partition: 0,
    message: { key: message.key, value: message.value, headers: message.headers, offset: String(sequence), timestamp: '0', attributes: 0 },
  } as unknown as EachMessagePayload;
}
const requestIdOf = (delivery: EachMessagePayload) => fromKafkaMessage(delivery.message).id;

function benefitDelivery(): EachMessagePayload {
  const requestId = randomUUID();
  const data = {
    requestId,
    caseId: randomUUID(),
    recipient: MEMBER,
    request: 'benefit',
    benefit: 'pension-insurance-subsidy',
    beneficiary: { name: '张三', idNumberMasked: '110101********1234' },
    decision: { matter: 'pension-subsidy', decidedAt: '2026-01-01T00:00:00Z', validFrom: '2026-01-01' },
    materials: [],
  };
  const message = toKafkaMessage(cloudEvent({ id: requestId, type: EVENT_TYPES.benefit, source: 'datarun.relay', correlationid: 'corr-1', data }), requestId);
  return {
    topic: recipientTopic(MEMBER),
    partition: 0,
    message: { key: message.key, value: message.value, headers: message.headers, offset: '0', timestamp: '0', attributes: 0 },
    heartbeat: async () => undefined,
    pause: () => () => undefined,
  } as unknown as EachMessagePayload;
}

const statusesOf = (messages: Message[]) => messages.map((m) => fromKafkaMessage(m as never).data as TransferStatus);

describe('the wait before a set-aside request is tried again', () => {
  const retry = { baseMs: 1000, maxMs: 300_000 };
  it('doubles from the base up to the ceiling, of which it waits a random half or more', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, retry, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, retry, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(40, retry, () => 1)).toBe(300_000);
    expect(retryDelayMs(1000, retry, () => 0)).toBe(150_000);
  });
});

describe('the connector, with what its recipient system answers', () => {
  it('sends a reference holding U+0000 with U+FFFD in its place, rather than a status refused before it is signed, on every delivery', async () => {
    const { connector, inbox, statuses } = connectorAnswering(async () => ({ reference: 'R-\u0000-1' }));
    await connector.handle(benefitDelivery());
    expect(statuses().map((s) => [s.state, s.reference])).toEqual([
      ['accepted', undefined],
      ['completed', 'R-\ufffd-1'],
    ]);
    inbox.close();
  });

  it('sends a refusal holding U+0000 likewise', async () => {
    const { connector, inbox, statuses } = connectorAnswering(async () => {
      throw new RecipientRefusal('STATE_CONFLICT: \u0000 closed');
    });
    await connector.handle(benefitDelivery());
    expect(statuses().map((s) => [s.state, s.reason])).toEqual([
      ['accepted', undefined],
      ['rejected', 'STATE_CONFLICT: \ufffd closed'],
    ]);
    inbox.close();
  });
});

describe('the connector, when a request fails for a reason that may pass', () => {
  it.each([
    ['its system answers 503', new TransientFailure("the recipient's system answered 503 down")],
    ['its adapter fails in a way it does not explain', new TypeError("Cannot read properties of undefined (reading 'reference')")],
  ])('sets the request aside to be tried again when %s, and dead-letters nothing', async (_, failure) => {
    const { connector, inbox, statuses, deadLetters } = connectorAnswering(async () => {
      throw failure;
    });
    const delivery = benefitDelivery();
    await connector.handle(delivery); // resolves: the offset may be committed, the next request flows
    const deferred = inbox.deferred(requestIdOf(delivery));
    expect(deferred).toMatchObject({ attempts: 1, parkedAt: null, lastError: failure.message, send: 'corr-1' });
    expect(deferred!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
    expect(deferred!.message.value.equals(Buffer.from(delivery.message.value!))).toBe(true);
    expect(statuses().map((s) => s.state)).toEqual(['accepted']);
    expect(deadLetters()).toEqual([]);
    expect(inbox.entry(requestIdOf(delivery))).toBeUndefined();
    inbox.close();
  });

  it('skips a redelivery of a request it holds for retry, and applies it on the retry once the system answers', async () => {
    let down = true;
    const applied: string[] = [];
    const { connector, inbox, statuses } = connectorAnswering(
      async (request) => {
        if (down) throw new TransientFailure('the system answered 503');
        applied.push(request.requestId);
        return { reference: 'R-1' };
      },
      { CONNECTOR_RETRY_BASE_MS: '10' },
    );
    const delivery = benefitDelivery();
    await connector.handle(delivery);
    await connector.handle(delivery);
    expect((await connector.duplicates.get()).values[0].value).toBe(1);
    expect(inbox.deferred(requestIdOf(delivery))?.attempts).toBe(1);
    down = false;
    await new Promise((r) => setTimeout(r, 30));
    await connector.retryDue();
    expect(applied).toEqual([requestIdOf(delivery)]);
    expect(inbox.deferred(requestIdOf(delivery))).toBeUndefined();
    expect(inbox.entry(requestIdOf(delivery))?.outcome).toEqual({ state: 'completed', reference: 'R-1' });
    expect(statuses().map((s) => s.state)).toEqual(['accepted', 'completed']);
    inbox.close();
  });

  it('parks a request that failed for its whole budget, and tries it again only once resumed', async () => {
    let calls = 0;
    const { connector, inbox, deadLetters, metrics } = connectorAnswering(
      async () => {
        calls += 1;
        throw new TransientFailure('the system answered 503');
      },
      { CONNECTOR_RETRY_BASE_MS: '10', CONNECTOR_RETRY_BUDGET_SECONDS: '1' },
    );
    const delivery = benefitDelivery();
    const requestId = requestIdOf(delivery);
    await connector.handle(delivery);
    await new Promise((r) => setTimeout(r, 1100)); // the budget of one second is spent
    await connector.retryDue();
    const parked = inbox.deferred(requestId);
    expect(parked?.parkedAt).toBeInstanceOf(Date);
    expect(parked?.attempts).toBe(2);
    expect(calls).toBe(2);
    await new Promise((r) => setTimeout(r, 30));
    await connector.retryDue();
    expect(calls).toBe(2); // parked: no more tries
    expect(await metrics.registry.getSingleMetricAsString('datarun_connector_deferred_requests')).toMatch(/state="parked"} 1/);
    expect(deadLetters()).toEqual([]);

    expect(inbox.resume(requestId)).toEqual([requestId]);
    await connector.retryDue();
    expect(calls).toBe(3);
    expect(inbox.deferred(requestId)).toMatchObject({ attempts: 1, parkedAt: null });
    inbox.close();
  });

  it('throws, so that the message comes again, when the broker refuses its status: nothing is set aside or dead-lettered', async () => {
    const { connector, inbox, broker, deadLetters } = connectorAnswering(async () => ({ reference: 'R-1' }));
    broker.down = true;
    const delivery = benefitDelivery();
    await expect(connector.handle(delivery)).rejects.toThrow(/cannot publish to .*transfer-status.*ECONNREFUSED/);
    expect(inbox.deferred(requestIdOf(delivery))).toBeUndefined();
    expect(inbox.entry(requestIdOf(delivery))).toBeUndefined();
    broker.down = false;
    expect(deadLetters()).toEqual([]);
    await connector.handle(delivery);
    expect(inbox.entry(requestIdOf(delivery))?.outcome.state).toBe('completed');
    inbox.close();
  });
});

describe('the connector, ordering requests for the same property', () => {
  it('reports an older transfer superseded once a newer one for its property was applied, and never applies it', async () => {
    const applied: string[] = [];
    const { connector, inbox, statuses } = connectorAnswering(
      async (request) => {
        applied.push(request.requestId);
        return { reference: `R-${applied.length}` };
      },
      {},
      'water',
    );
    const older = transferDelivery('UNIT-1', 7);
    const newer = transferDelivery('UNIT-1', 9);
    const otherProperty = transferDelivery('UNIT-2', 3);
    await connector.handle(newer);
    await connector.handle(older); // a replay or a resend of A→B after B→C
    await connector.handle(otherProperty);
    expect(applied).toEqual([requestIdOf(newer), requestIdOf(otherProperty)]);
    const superseded = statuses().find((s) => s.requestId === requestIdOf(older) && s.state !== 'accepted');
    expect(superseded).toMatchObject({ state: 'superseded', reason: expect.stringContaining(`${requestIdOf(newer)} (sequence 9)`) });
    expect(inbox.orderMark('property:UNIT-1')).toEqual({ sequence: 9, requestId: requestIdOf(newer) });
    expect(inbox.entry(requestIdOf(older))?.outcome.state).toBe('superseded');
    inbox.close();
  });

  it('applies a newer transfer after an older one, moving the mark forward', async () => {
    const applied: string[] = [];
    const { connector, inbox } = connectorAnswering(
      async (request) => {
        applied.push(request.requestId);
        return { reference: 'R' };
      },
      {},
      'water',
    );
    const older = transferDelivery('UNIT-3', 4);
    const newer = transferDelivery('UNIT-3', 5);
    await connector.handle(older);
    await connector.handle(newer);
    expect(applied).toEqual([requestIdOf(older), requestIdOf(newer)]);
    expect(inbox.orderMark('property:UNIT-3')?.sequence).toBe(5);
    inbox.close();
  });
});
