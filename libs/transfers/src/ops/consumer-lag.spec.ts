import type { KafkaMessaging } from '@datarun/messaging';
import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { ConsumerLag } from './consumer-lag.js';

/** What a stub broker answers, by the broker's (prefixed) names: per topic, partitions' watermarks; per group and topic, commits. */
interface Broker {
  ends: Record<string, Array<{ partition: number; low: number; high: number }>>;
  commits: Record<string, Record<string, Array<{ partition: number; offset: number }>>>;
  /** How connecting behaves: answer, refuse, or never answer (a broker that hangs). */
  connect: 'ok' | 'refuse' | 'hang';
  connects: number;
}

function stubMessaging(broker: Broker): KafkaMessaging {
  const admin = {
    connect: () => {
      broker.connects += 1;
      if (broker.connect === 'refuse') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9092'));
      if (broker.connect === 'hang') return new Promise<void>(() => undefined);
      return Promise.resolve();
    },
    disconnect: () => Promise.resolve(),
    fetchTopicOffsets: (topic: string) =>
      Promise.resolve((broker.ends[topic] ?? []).map((p) => ({ partition: p.partition, offset: String(p.high), high: String(p.high), low: String(p.low) }))),
    fetchOffsets: ({ groupId, topics }: { groupId: string; topics: string[] }) =>
      Promise.resolve(
        topics.map((topic) => ({
          topic,
          partitions: (broker.ends[topic] ?? []).map((p) => ({
            partition: p.partition,
            offset: String(broker.commits[groupId]?.[topic]?.find((c) => c.partition === p.partition)?.offset ?? -1),
          })),
        })),
      ),
  };
  // A deployment prefix, as KAFKA_TOPIC_PREFIX gives: the broker knows only prefixed names.
  return { admin: () => admin, physical: (name: string) => `p.${name}` } as unknown as KafkaMessaging;
}

async function lagValues(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('datarun_kafka_consumer_lag')!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.group}/${v.labels.topic}`, v.value]));
}

describe('ConsumerLag', () => {
  beforeAll(() => Logger.overrideLogger(false)); // the debug lines of the failure cases are expected
  const subscriptions = [
    { groupId: 'relay-status', topic: 'status' },
    { groupId: 'relay-dlq', topic: 'dlq' },
  ];
  let broker: Broker;
  beforeEach(() => {
    broker = {
      ends: {
        'p.status': [
          { partition: 0, low: 0, high: 10 },
          { partition: 1, low: 5, high: 7 },
          { partition: 2, low: 100, high: 130 },
        ],
        'p.dlq': [{ partition: 0, low: 0, high: 4 }],
      },
      // Partition 1 has no commit: its retained messages (7 - 5) are all still to read.
      commits: {
        'p.relay-status': {
          'p.status': [
            { partition: 0, offset: 8 },
            { partition: 2, offset: 130 },
          ],
        },
        'p.relay-dlq': { 'p.dlq': [{ partition: 0, offset: 4 }] },
      },
      connect: 'ok',
      connects: 0,
    };
  });

  it('sums end minus committed over partitions (by prefixed names, labelled by API names), counting retained messages where the group never committed', async () => {
    const registry = new Registry();
    new ConsumerLag(stubMessaging(broker), registry, subscriptions, { cacheMs: 0 });
    expect(await lagValues(registry)).toEqual({ 'relay-status/status': 2 + 2 + 0, 'relay-dlq/dlq': 0 });
    expect(await registry.metrics()).toContain('datarun_kafka_consumer_lag{group="relay-status",topic="status"} 4');
  });

  it('asks Kafka once per cache period, however many scrapes come', async () => {
    const registry = new Registry();
    new ConsumerLag(stubMessaging(broker), registry, subscriptions, { cacheMs: 60_000 });
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    broker.ends['p.dlq'][0].high = 9;
    expect(await lagValues(registry)).toEqual({ 'relay-status/status': 4, 'relay-dlq/dlq': 0 });
    expect(broker.connects).toBe(1);
  });

  it('keeps its last values and still answers the scrape when Kafka refuses', async () => {
    const registry = new Registry();
    new ConsumerLag(stubMessaging(broker), registry, subscriptions, { cacheMs: 0 });
    expect(await lagValues(registry)).toEqual({ 'relay-status/status': 4, 'relay-dlq/dlq': 0 });
    broker.connect = 'refuse';
    broker.ends['p.dlq'][0].high = 9;
    await expect(registry.metrics()).resolves.toContain('datarun_kafka_consumer_lag{group="relay-dlq",topic="dlq"} 0');
    expect(broker.connects).toBe(2);
  });

  it('answers a scrape at its timeout when Kafka hangs, with no value before the first answer', async () => {
    // Fake timers: the scrape is shown to answer when its 100 ms are up, not timed on a busy machine.
    jest.useFakeTimers();
    try {
      broker.connect = 'hang';
      const registry = new Registry();
      new ConsumerLag(stubMessaging(broker), registry, subscriptions, { cacheMs: 0, timeoutMs: 100 });
      let answered = false;
      const scrape = lagValues(registry).finally(() => (answered = true));
      await jest.advanceTimersByTimeAsync(99);
      expect(answered).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(await scrape).toEqual({});
      // The hung refresh is shared, not piled up: the next scrape waits on the same one.
      const next = registry.metrics();
      await jest.advanceTimersByTimeAsync(100);
      await next;
      expect(broker.connects).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
