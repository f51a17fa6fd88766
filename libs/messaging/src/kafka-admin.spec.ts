import type { Admin, Kafka } from 'kafkajs';
import { createMissingTopics } from './kafka-admin.js';

/** An admin client whose metadata answers UNKNOWN_TOPIC_OR_PARTITION `unknownFor` times after a create, as a busy KRaft broker does. */
function fakeKafka(unknownFor: number, existing: string[] = []) {
  const created: string[] = [];
  let metadataCalls = 0;
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    listTopics: async () => [...existing, ...created],
    createTopics: async ({ topics, waitForLeaders }: { topics: Array<{ topic: string }>; waitForLeaders?: boolean }) => {
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
  return { kafka: { admin: () => admin as unknown as Admin } as unknown as Kafka, created, metadataCalls: () => metadataCalls };
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
});
