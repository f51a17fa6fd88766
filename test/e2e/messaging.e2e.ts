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
});
