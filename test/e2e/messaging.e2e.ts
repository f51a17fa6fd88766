// Produce to and consume from a fresh topic on the real broker, through the messaging library.
import { cloudEvent, fromKafkaMessage, KafkaMessaging, toKafkaMessage, type CloudEvent } from '@datarun/messaging';
import { eventually } from '../support/eventually.js';
import { testConfig, uniqueName } from '../support/infra.js';

describe('messaging on the real broker', () => {
  const messaging = new KafkaMessaging(testConfig().kafka);
  afterAll(() => messaging.close());

  it('creates a topic explicitly and round-trips CloudEvents in binary mode, in key order', async () => {
    const topic = uniqueName('test.messaging');
    await messaging.ensureTopics([{ topic, partitions: 3, config: { 'retention.ms': '3600000' } }]);
    const admin = messaging.admin();
    await admin.connect();
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    await admin.disconnect();
    expect(meta.partitions).toHaveLength(3);

    const sent = [1, 2, 3].map((n) => cloudEvent({ type: 'test.counted.v1', source: 'datarun.test', subject: 'unit-7', data: { n, 名: '张三' } }));
    const received: CloudEvent[] = [];
    await messaging.consume({
      groupId: uniqueName('test-group'),
      topics: [topic],
      onMessage: async ({ message }) => void received.push(fromKafkaMessage(message)),
    });
    await messaging.publish(
      topic,
      sent.map((e) => toKafkaMessage(e, 'unit-7')),
    );
    await eventually(`the ${sent.length} events consumed`, () => received.length, { until: (n) => n >= sent.length });
    expect(received).toEqual(sent);
  }, 60_000);

  it('sends through @platformatic/kafka when KAFKA_PRODUCER_CLIENT asks: the same events, keys and order, to kafkajs consumers', async () => {
    const other = new KafkaMessaging(testConfig({ KAFKA_PRODUCER_CLIENT: 'platformatic' }).kafka);
    try {
      const [a, b] = [uniqueName('test.platformatic'), uniqueName('test.platformatic')];
      await other.ensureTopics([a, b].map((topic) => ({ topic, partitions: 3 })));
      const events = (n: number) => cloudEvent({ type: 'test.counted.v1', source: 'datarun.test', subject: 'unit-9', data: { n, 名: '李四' } });
      const sentA = [1, 2, 3, 4].map(events);
      const sentB = [5, 6].map(events);
      const received: Array<{ topic: string; key: string | undefined; event: CloudEvent }> = [];
      await messaging.consume({
        groupId: uniqueName('test-group'),
        topics: [a, b],
        onMessage: async ({ topic, message }) => void received.push({ topic, key: message.key?.toString(), event: fromKafkaMessage(message) }),
      });
      await other.publish(
        a,
        sentA.slice(0, 2).map((e) => toKafkaMessage(e, 'unit-9')),
      );
      await other.publishBatch([
        { topic: a, messages: sentA.slice(2).map((e) => toKafkaMessage(e, 'unit-9')) },
        { topic: b, messages: sentB.map((e) => toKafkaMessage(e, 'unit-9')) },
      ]);
      await eventually('the six events consumed', () => received.length, { until: (n) => n >= 6 });
      expect(received.filter((r) => r.topic === a).map((r) => r.event)).toEqual(sentA);
      expect(received.filter((r) => r.topic === b).map((r) => r.event)).toEqual(sentB);
      expect(new Set(received.map((r) => r.key))).toEqual(new Set(['unit-9']));
    } finally {
      await other.close();
    }
  }, 60_000);
});
