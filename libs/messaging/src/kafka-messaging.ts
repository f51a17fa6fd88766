import type { DatarunConfig } from '@datarun/config';
import { Kafka, Partitioners, type Admin, type Consumer, type EachMessagePayload, type ITopicConfig, type Message, type Producer, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import type { Logger as PinoLogger } from 'pino';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly config?: Readonly<Record<string, string>>;
}

export interface ConsumeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning?: boolean;
  readonly onMessage: (payload: EachMessagePayload) => Promise<void>;
}

/**
 * One Kafka client per process: a lazily connected idempotent producer, consumers on demand, and
 * an admin for topic creation and readiness. kafkajs' own logs go to pino.
 */
export class KafkaMessaging {
  private readonly kafka: Kafka;
  private producer?: Promise<Producer>;
  private readonly consumers = new Set<Consumer>();

  constructor(
    private readonly config: DatarunConfig['kafka'],
    private readonly logger?: PinoLogger,
  ) {
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      connectionTimeout: 3000,
      requestTimeout: 10000,
      logLevel: KafkaLogLevel.WARN,
      logCreator: logger ? pinoLogCreator(logger) : undefined,
    });
  }

  /** Creates the topics that do not exist yet, with explicit partitions and configs. */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing: ITopicConfig[] = specs
        .filter((s) => !existing.has(s.topic))
        .map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: -1, // the broker's default: 1 locally, the cluster's setting in production
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        }));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  }

  /** Sends messages to one topic with acks from all in-sync replicas. */
  async publish(topic: string, messages: Message[]): Promise<void> {
    const producer = await this.connectedProducer();
    await producer.send({ topic, messages, acks: -1 });
  }

  /** Starts a consumer group member; offsets are committed after `onMessage` resolves. */
  async consume(options: ConsumeOptions): Promise<Consumer> {
    const consumer = this.kafka.consumer({ groupId: options.groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
    this.consumers.add(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({ autoCommit: true, eachMessage: options.onMessage });
    return consumer;
  }

  /** Readiness: asks the cluster for its metadata, failing fast instead of retrying. */
  async ping(timeoutMs = 2000): Promise<{ brokers: number }> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`no answer from ${this.config.brokers.join(',')} within ${timeoutMs} ms`)), timeoutMs).unref();
    });
    try {
      const cluster = await Promise.race([admin.connect().then(() => admin.describeCluster()), timeout]);
      return { brokers: cluster.brokers.length };
    } finally {
      void admin.disconnect().catch(() => undefined);
    }
  }

  admin(): Admin {
    return this.kafka.admin();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    this.consumers.clear();
    if (this.producer) {
      const producer = await this.producer.catch(() => undefined);
      this.producer = undefined;
      await producer?.disconnect().catch(() => undefined);
    }
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      // Idempotent production requires a single request in flight to keep per-partition order.
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => {
        this.producer = undefined;
      });
    }
    return this.producer;
  }
}

function pinoLogCreator(logger: PinoLogger): logCreator {
  return () => ({ level, log }) => {
    const { message, ...extra } = log;
    const fields = { component: 'kafkajs', namespace: log.namespace, broker: extra.broker, error: extra.error };
    if (level <= KafkaLogLevel.ERROR) logger.error(fields, message);
    else if (level === KafkaLogLevel.WARN) logger.warn(fields, message);
    else logger.debug(fields, message);
  };
}
