import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { createMissingTopics } from './kafka-admin.js';
import { securityOf } from './kafka-security.js';

/** An admin client whose metadata answers UNKNOWN_TOPIC_OR_PARTITION `unknownFor` times after a create, as a busy KRaft broker does. */
function fakeKafka(unknownFor: number, existing: string[] = []) {
  const created: string[] = [];
  const asked: unknown[] = [];
  let metadataCalls = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [...existing, ...created],
    createTopics: async ({ topics, waitForLeaders }: { topics: Array<{ topic: string }>; waitForLeaders?: boolean }) => {
      asked.push(...topics);
      created.push(...topics.map((t) => t.topic));
      // kafkajs' own leader wait (on unless turned off) retries only LEADER_NOT_AVAILABLE, so it fails here.
      if (waitForLeaders !== false && unknownFor > 0)
        throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
      return true;
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      metadataCalls += 1;
      if (metadataCalls <= unknownFor)
        throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
      return {
        topics: topics.map((name) => ({
          name,
          partitions: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }],
        })),
      };
    },
  };
  return { kafka: { admin: () => admin as unknown as Admin } as unknown as Kafka, created, asked, metadataCalls: () => metadataCalls };
}

describe('createMissingTopics', () => {
  it('waits out a new topic that the broker does not know yet instead of failing', async () => {
    const fake = fakeKafka(3);
    await createMissingTopics(fake.kafka, [{ topic: 'a', partitions: 1 }], (t) => `p.${t}`);
    expect(fake.created).toEqual(['p.a']);
    expect(fake.metadataCalls()).toBe(4);
  });

  it('creates nothing and waits for nothing when every topic exists', async () => {
    const fake = fakeKafka(0, ['p.a']);
    await createMissingTopics(fake.kafka, [{ topic: 'a', partitions: 1 }], (t) => `p.${t}`);
    expect(fake.created).toEqual([]);
    expect(fake.metadataCalls()).toBe(0);
  });

  it('creates a topic with the configured replicas and min.insync.replicas, unless its spec sets its own', async () => {
    const fake = fakeKafka(0);
    await createMissingTopics(
      fake.kafka,
      [
        { topic: 'a', partitions: 6, config: { 'retention.ms': '1000' } },
        { topic: 'b', partitions: 1, config: { 'min.insync.replicas': '1' } },
      ],
      (t) => t,
      { replicationFactor: 3, minInsyncReplicas: 2 },
    );
    expect(fake.asked).toEqual([
      {
        topic: 'a',
        numPartitions: 6,
        replicationFactor: 3,
        configEntries: [
          { name: 'min.insync.replicas', value: '2' },
          { name: 'retention.ms', value: '1000' },
        ],
      },
      { topic: 'b', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '1' }] },
    ]);
  });
});

describe('securityOf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datarun-kafka-'));
  it('reads the CA and the password (its first line) from their files', () => {
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMII…\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'password'), 's3cret\n');
    expect(
      securityOf({ tls: { caFile: join(dir, 'ca.pem') }, sasl: { mechanism: 'scram-sha-512', username: 'relay', passwordFile: join(dir, 'password') } }),
    ).toEqual({
      ssl: { ca: ['-----BEGIN CERTIFICATE-----\nMII…\n-----END CERTIFICATE-----\n'] },
      sasl: { mechanism: 'scram-sha-512', username: 'relay', password: 's3cret' },
    });
    expect(securityOf({ tls: {} })).toEqual({ ssl: true });
    expect(securityOf({})).toEqual({});
  });

  it('names the variable of a file it cannot read', () => {
    const missing = join(dir, 'none');
    expect(() => securityOf({ sasl: { mechanism: 'scram-sha-256', username: 'relay', passwordFile: missing } })).toThrow(
      `KAFKA_SASL_PASSWORD_FILE: expected the SASL password in ${missing} (no such file)`,
    );
  });
});
