import { randomUUID } from 'node:crypto';
import { loadConfig } from '@datarun/config';
import { cloudEvent, fromKafkaMessage, type KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { Metrics } from '@datarun/metrics';
import { EVENT_TYPES, recipientTopic, type TransferStatus } from '@datarun/transfers';
import type { EachMessagePayload, Message } from 'kafkajs';
import { Connector } from './connector.js';
import { ConnectorInbox } from './inbox.js';
import { RecipientRefusal, type RecipientSystem } from './recipient-system.js';

const MEMBER = 'zj.test.renshe';

/** A department's connector with no key (statuses go out unsigned), its system answering `answer`. */
function connectorAnswering(answer: RecipientSystem['apply']) {
  const published: Message[] = [];
  const messaging = { publish: async (_topic: string, messages: Message[]) => void published.push(...messages) } as unknown as KafkaMessaging;
  const inbox = new ConnectorInbox(':memory:');
  const member = { id: MEMBER, privateKey: '', keyId: '', systemUrl: 'http://127.0.0.1:1', inbox: ':memory:' };
  const connector = new Connector(
    messaging,
    inbox,
    { apply: answer, probe: async () => ({}) },
    loadConfig({}),
    { member, signer: undefined, exitOnCrash: false },
    new Metrics(),
  );
  return { connector, inbox, published };
}

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

describe('the connector, with what its recipient system answers', () => {
  it('sends a reference holding U+0000 with U+FFFD in its place, rather than a status refused before it is signed, on every delivery', async () => {
    const { connector, inbox, published } = connectorAnswering(async () => ({ reference: 'R-\u0000-1' }));
    await connector.handle(benefitDelivery());
    expect(statusesOf(published).map((s) => [s.state, s.reference])).toEqual([
      ['accepted', undefined],
      ['completed', 'R-\ufffd-1'],
    ]);
    inbox.close();
  });

  it('sends a refusal holding U+0000 likewise', async () => {
    const { connector, inbox, published } = connectorAnswering(async () => {
      throw new RecipientRefusal('STATE_CONFLICT: \u0000 closed');
    });
    await connector.handle(benefitDelivery());
    expect(statusesOf(published).map((s) => [s.state, s.reason])).toEqual([
      ['accepted', undefined],
      ['rejected', 'STATE_CONFLICT: \ufffd closed'],
    ]);
    inbox.close();
  });
});
