// Kafka with SASL (issue 17, item 5): a broker of the test's own with a SCRAM-SHA-512 listener and
// one user, started by deploy/local/kafka.sh (KAFKA_SASL_PORT, KAFKA_SASL_USERS). datarun's client,
// configured as production would be (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password in
// KAFKA_SASL_PASSWORD_FILE), creates its topics, publishes and consumes there; with a wrong
// password it is refused.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@datarun/config';
import { KafkaMessaging, type KafkaMessage } from '@datarun/messaging';
import { OwnBroker } from '../support/broker.js';
import { eventually } from '../support/eventually.js';

const USER = 'datarun';
const PASSWORD = 'sasl-test-secret';
const SASL_PORT = 19394;

describe('Kafka with SASL/SCRAM', () => {
  const broker = new OwnBroker(19392, 19393, { KAFKA_SASL_PORT: String(SASL_PORT), KAFKA_SASL_USERS: `${USER}:${PASSWORD}` });
  const dir = mkdtempSync(join(tmpdir(), 'datarun-sasl-'));
  const messagingWith = (password: string) => {
    const file = join(dir, `password-${randomUUID()}`);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    return new KafkaMessaging(
      loadConfig({
        KAFKA_BROKERS: `127.0.0.1:${SASL_PORT}`,
        KAFKA_TOPIC_PREFIX: `sasl-${randomUUID().slice(0, 8)}.`,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: USER,
        KAFKA_SASL_PASSWORD_FILE: file,
      }).kafka,
    );
  };

  beforeAll(() => broker.start(), 120_000);
  afterAll(() => broker.stop(), 60_000);

  it('creates topics, publishes and consumes as its user', async () => {
    const messaging = messagingWith(PASSWORD);
    try {
      await messaging.ensureTopics([{ topic: 'sasl.check.v1', partitions: 1 }]);
      await messaging.publish('sasl.check.v1', [{ key: 'k', value: Buffer.from('{"over":"sasl"}') }]);
      const seen: KafkaMessage[] = [];
      await messaging.consume({ groupId: 'sasl-reader', topics: ['sasl.check.v1'], onMessage: async ({ message }) => void seen.push(message) });
      const [message] = await eventually('the message consumed over SASL', async () => seen, { until: (s) => s.length === 1, timeoutMs: 30_000 });
      expect(message.value?.toString()).toBe('{"over":"sasl"}');
    } finally {
      await messaging.close();
    }
  }, 60_000);

  it('is refused with a wrong password', async () => {
    const messaging = messagingWith('not-the-password');
    try {
      await expect(messaging.publish('sasl.check.v1', [{ key: 'k', value: Buffer.from('{}') }])).rejects.toThrow(/SASL|[Aa]uthentication/);
    } finally {
      await messaging.close();
    }
  }, 60_000);
});
