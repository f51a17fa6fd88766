import type { DatarunConfig } from '@datarun/config';
import { RequestContext } from '@datarun/request-context';
import {
  Kafka,
  Partitioners,
  type Admin,
  type Consumer,
  type EachMessagePayload,
  type KafkaMessage,
  type Message,
  type Producer,
  logLevel as KafkaLogLevel,
} from 'kafkajs';
import type { Logger as PinoLogger } from 'pino';
import { correlationIdOfMessage } from './cloud-event.js';
import { createMissingTopics, pinoLogCreator, type TopicSpec } from './kafka-admin.js';
import { securityOf } from './kafka-security.js';
import { PlatformaticSender, type TopicMessages } from './platformatic-sender.js';

export type { TopicSpec } from './kafka-admin.js';

export interface ConsumeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning?: boolean;
  readonly onMessage: (payload: EachMessagePayload) => Promise<void>;
  /**
   * Offsets are committed only for messages whose `onMessage` resolved, every this many messages
   * or this often, whichever comes first, and before a clean disconnect. A crash between two
   * commits redelivers what came after the last one: consumers must be idempotent. Without it,
   * kafkajs' auto-commit (after each fetched batch and every second).
   */
  readonly commitEvery?: { readonly messages: number; readonly ms: number };
  /**
   * kafkajs gave up on this consumer (CRASH event without a restart). A process whose consumer
   * is its whole job should exit so that its supervisor restarts it, rather than hang alive.
   */
  readonly onCrash?: (error: Error) => void;
}

/**
 * One Kafka client per process: a lazily connected idempotent producer, consumers on demand, and
 * an admin for topic creation and readiness. kafkajs' own logs go to pino.
 *
 * Callers speak in the topic names of docs/api.md; the configured prefix (KAFKA_TOPIC_PREFIX, empty in
 * production) is added on the way out and removed on the way in, here and nowhere else.
 */
export class KafkaMessaging {
  private readonly kafka: Kafka;
  private producer?: Promise<Producer>;
  private readonly consumers = new Set<Consumer>();
  /**
   * The consumer group of each consumer kafkajs gave up on (CRASH without a restart), until it is
   * stopped: nothing of that group is consumed any more, and readiness names it.
   */
  private readonly crashed = new Map<Consumer, string>();
  private closed = false;
  private readonly retries = new Set<NodeJS.Timeout>();
  /** Commits of consumers with their own commit cadence, run before they disconnect. */
  private readonly flushes = new Map<Consumer, () => Promise<void>>();
  /** The sending side on @platformatic/kafka, when KAFKA_PRODUCER_CLIENT asks for it. */
  private readonly platformatic?: PlatformaticSender;
  /** Sends of this process, one after another (see `send`). */
  private sending: Promise<unknown> = Promise.resolve();
  /** The partitions the send under way writes to, as kafkajs chose them. */
  private readonly choices = new PartitionChoices();

  constructor(
    private readonly config: DatarunConfig['kafka'],
    private readonly logger?: PinoLogger,
  ) {
    // The CA and the password are read once, for both clients.
    const security = securityOf(config);
    if (config.producerClient === 'platformatic') this.platformatic = new PlatformaticSender(config, security);
    this.kafka = new Kafka({
      clientId: config.clientId,
      brokers: [...config.brokers],
      ...security,
      connectionTimeout: 3000,
      requestTimeout: 10000,
      logLevel: KafkaLogLevel.WARN,
      logCreator: logger ? pinoLogCreator(logger) : undefined,
    });
  }

  /** The broker's name of a topic or consumer group. */
  physical(name: string): string {
    return this.config.topicPrefix + name;
  }

  private creating: Promise<unknown> = Promise.resolve();

  /** Creates the topics that do not exist yet, with explicit partitions and configs (one call at a time per process). */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const run = this.creating.then(() => createMissingTopics(this.kafka, specs, (name) => this.physical(name), this.config));
    this.creating = run.catch(() => undefined);
    return run;
  }

  /** Sends messages to one topic with acks from all in-sync replicas. */
  publish(topic: string, messages: Message[]): Promise<void> {
    return this.publishBatch([{ topic, messages }]);
  }

  /**
   * Starts a consumer group member; offsets are committed after `onMessage` resolves. Each message
   * is handled in a request context of its own, under the message's correlation id: its log lines,
   * audit records, calls and the events it produces all carry it.
   */
  async consume(options: ConsumeOptions): Promise<Consumer> {
    const consumer = await this.subscribedConsumer(options);
    const prefix = this.config.topicPrefix;
    const logical: ConsumeOptions['onMessage'] = (payload) =>
      RequestContext.run(correlationIdOfMessage(payload.message), () =>
        whileHeartbeating(payload.heartbeat, () => options.onMessage(prefix ? { ...payload, topic: payload.topic.slice(prefix.length) } : payload)),
      );
    if (!options.commitEvery) {
      // kafkajs commits what resolved after each batch and every second.
      await consumer.run({ autoCommit: true, autoCommitInterval: 1000, eachMessage: logical });
      return consumer;
    }
    // Our own commits (kafkajs' auto-commit would also commit at the end of every fetched batch):
    // only offsets whose work finished, every `messages` or `ms`, and before a clean disconnect.
    const every = options.commitEvery;
    const done = new Map<string, { topic: string; partition: number; offset: string }>();
    let since = 0;
    let lastCommit = Date.now();
    const commit = async () => {
      if (done.size === 0) return;
      const offsets = [...done.values()];
      done.clear();
      since = 0;
      lastCommit = Date.now();
      await consumer.commitOffsets(offsets);
    };
    const timer = setInterval(
      () => {
        if (Date.now() - lastCommit >= every.ms)
          commit().catch((error: Error) => this.logger?.warn({ groupId: options.groupId, err: error }, `offset commit failed, will retry: ${error.message}`));
      },
      Math.min(every.ms, 1000),
    );
    timer.unref();
    this.flushes.set(consumer, async () => {
      clearInterval(timer);
      await commit().catch(() => undefined);
    });
    await consumer.run({
      autoCommit: false,
      eachMessage: async (payload) => {
        await logical(payload);
        done.set(`${payload.topic}:${payload.partition}`, {
          topic: payload.topic,
          partition: payload.partition,
          offset: (BigInt(payload.message.offset) + 1n).toString(),
        });
        since += 1;
        if (since >= every.messages || Date.now() - lastCommit >= every.ms) await commit();
      },
    });
    return consumer;
  }

  /**
   * Like `consume`, but hands over each fetched batch of one partition at once, so a consumer can
   * do one transaction per batch instead of one per message. Offsets are resolved, and committed
   * by kafkajs, only after `onBatch` resolves.
   */
  async consumeBatches(
    options: Omit<ConsumeOptions, 'onMessage' | 'commitEvery'> & {
      readonly onBatch: (batch: { topic: string; partition: number; messages: KafkaMessage[] }) => Promise<void>;
    },
  ): Promise<Consumer> {
    const consumer = await this.subscribedConsumer(options);
    const prefix = this.config.topicPrefix;
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 2,
      eachBatch: async ({ batch, heartbeat }) => {
        if (batch.messages.length === 0) return;
        await whileHeartbeating(heartbeat, () =>
          options.onBatch({ topic: batch.topic.slice(prefix.length), partition: batch.partition, messages: batch.messages }),
        );
      },
    });
    return consumer;
  }

  /**
   * Runs `start` (typically: ensure topics, then consume) and, while it fails, again every 5 s
   * until this client is closed. A process must come up while its broker is down (readiness names
   * Kafka meanwhile), and no consumer may start after shutdown: one made on a closed client would
   * retry its broker for ever and keep the process alive. Resolves after the first attempt.
   */
  async keepStarting(what: string, start: () => Promise<void>): Promise<void> {
    if (this.closed) return;
    try {
      await start();
    } catch (error) {
      if (this.closed) return;
      this.logger?.error({ err: error }, `cannot start ${what}, retrying in 5 s: ${(error as Error).message}`);
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        void this.keepStarting(what, start);
      }, 5000);
      timer.unref();
      this.retries.add(timer);
    }
  }

  /** A group member of `consume`/`consumeBatches`, connected and subscribed, its crash reported. */
  private async subscribedConsumer(options: Pick<ConsumeOptions, 'groupId' | 'topics' | 'fromBeginning' | 'onCrash'>): Promise<Consumer> {
    if (this.closed) throw new Error(`the Kafka client is closed; not starting consumer ${options.groupId}`);
    const consumer = this.kafka.consumer({
      groupId: this.physical(options.groupId),
      sessionTimeout: 10000,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      allowAutoTopicCreation: false,
      // The broker answers a fetch as soon as data arrives; the wait bounds how long an idle
      // consumer takes to leave its group on shutdown (kafkajs finishes the fetch first).
      maxWaitTimeInMs: 500,
      // kafkajs (2.2.4) restarts a crashed consumer on a timer it sets only after handling the
      // crash, so a disconnect() during that handling (or during a restart) misses it: the consumer
      // restarts after shutdown and retries its broker for ever, keeping the process alive (the
      // fault tests' idle hang). A consumer we stopped, or of a closed client, never restarts.
      retry: { retries: 5, restartOnFailure: async () => this.isRunning(consumer) },
    });
    this.consumers.add(consumer);
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      if (restart || !this.isRunning(consumer)) return; // not a crash to report: we stopped it
      this.logger?.fatal({ groupId: options.groupId, err: error }, `Kafka consumer ${options.groupId} crashed and will not restart: ${error.message}`);
      this.crashed.set(consumer, options.groupId);
      options.onCrash?.(error);
    });
    await consumer.connect();
    if (this.closed) {
      // close() ran while this consumer connected: it did not see it.
      this.consumers.delete(consumer);
      await consumer.disconnect();
      throw new Error(`the Kafka client closed while consumer ${options.groupId} started`);
    }
    await consumer.subscribe({ topics: options.topics.map((t) => this.physical(t)), fromBeginning: options.fromBeginning ?? true });
    return consumer;
  }

  /** True until `stopConsumer` or `close` stops it. */
  private isRunning(consumer: Consumer): boolean {
    return !this.closed && this.consumers.has(consumer);
  }

  /**
   * The group of every consumer kafkajs gave up on, until its owner stops it (to start another, or
   * for good). Readiness names them: an app whose consumer stopped is alive but does not do its
   * job. (A start that `keepStarting` retries is not one: what keeps it from starting, the broker
   * or the database, is what readiness names.)
   */
  stoppedConsumers(): string[] {
    return [...new Set(this.crashed.values())].sort();
  }

  /** Stops one consumer started by `consume`, committing the offsets of finished work first. */
  async stopConsumer(consumer: Consumer): Promise<void> {
    this.consumers.delete(consumer);
    this.crashed.delete(consumer);
    await this.flushOffsets(consumer);
    await consumer.disconnect();
  }

  private async flushOffsets(consumer: Consumer): Promise<void> {
    const flush = this.flushes.get(consumer);
    this.flushes.delete(consumer);
    await flush?.();
  }

  /**
   * Sends many messages to several topics in one call (kafkajs `sendBatch`), acknowledged by all
   * in-sync replicas. With one request in flight per producer, messages of one partition keep
   * their order within and across calls.
   */
  publishBatch(topicMessages: ReadonlyArray<{ topic: string; messages: Message[] }>): Promise<void> {
    const physical = topicMessages.map((t) => ({ topic: this.physical(t.topic), messages: t.messages }));
    return this.platformatic ? this.sendOther(physical) : this.send(physical);
  }

  /**
   * Every send of the process goes through here, one at a time: kafkajs' idempotent producer is
   * experimental and known to lose messages when sends overlap (its sequence numbers race), so the
   * producer never has two calls in flight whoever calls it.
   *
   * A failed send discards the producer: its sequence numbers may no longer match the broker's.
   * kafkajs rolls a partition's sequence back whenever a produce request fails, even when the
   * broker wrote the batch (its answer lost when the broker crashed, or another partition of the
   * same request refused), so the next batch to that partition reuses the sequence with other
   * contents and is refused with OUT_OF_ORDER_SEQUENCE_NUMBER, on every send, forever (kafkajs
   * #598; seen by test/fault/transfer-broker-outage.e2e.ts). A fresh producer gets a new producer
   * id; what the failed send did write arrives twice, and consumers drop the copy by event id.
   *
   * A send is also failed here when kafkajs acknowledges it without every partition it chose
   * having answered. kafkajs (2.2.4) keeps the answers of the brokers that took an attempt and,
   * when it retries, sends only to brokers without one: if a partition's leader died and its new
   * leader is a broker that already answered for other partitions, that partition's messages are
   * never sent and the send resolves as if they had been written (acknowledged records missing
   * from the topic after a leader change; test/fault/three-broker-cluster.e2e.ts).
   */
  private send(topicMessages: TopicMessages): Promise<void> {
    return this.inTurn(async () => {
      const producer = await this.connectedProducer();
      this.choices.begin();
      try {
        const written = await producer.sendBatch({
          topicMessages: topicMessages.map((t) => ({ topic: t.topic, messages: t.messages as Message[] })),
          acks: -1,
        });
        const answered = new Set(written.map((w) => partitionName(w.topicName, w.partition)));
        const unanswered = [...this.choices.chosen].filter((p) => !answered.has(p));
        if (unanswered.length > 0) throw new UnwrittenPartitions(unanswered);
      } catch (error) {
        this.discardProducer();
        throw error;
      }
    });
  }

  /** A send through @platformatic/kafka (KAFKA_PRODUCER_CLIENT=platformatic), in the same one-at-a-time queue. */
  private sendOther(topicMessages: TopicMessages): Promise<void> {
    return this.inTurn(() => this.platformatic!.send(topicMessages));
  }

  /** Runs `work` after every send queued before it, whatever became of them. */
  private inTurn(work: () => Promise<void>): Promise<void> {
    const run = this.sending.then(work);
    this.sending = run.catch(() => undefined);
    return run;
  }

  private discardProducer(): void {
    const discarded = this.producer;
    this.producer = undefined;
    void discarded?.then((p) => p.disconnect()).catch(() => undefined);
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
    this.closed = true;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    await Promise.allSettled(
      [...this.consumers].map(async (c) => {
        await this.flushOffsets(c);
        await c.disconnect();
      }),
    );
    this.consumers.clear();
    this.crashed.clear();
    if (this.producer) {
      const producer = await this.producer.catch(() => undefined);
      this.producer = undefined;
      await producer?.disconnect().catch(() => undefined);
    }
    await this.platformatic?.close().catch(() => undefined);
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      // Idempotent production requires a single request in flight to keep per-partition order.
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // kafkajs' default partitioner, each choice remembered for the send under way (`send`).
        createPartitioner: () => {
          const choose = Partitioners.DefaultPartitioner();
          return (args) => {
            const partition = choose(args);
            this.choices.record(args.message, args.topic, partition);
            return partition;
          };
        },
      });
      this.producer = producer.connect().then(() => producer);
      this.producer.catch(() => {
        this.producer = undefined;
      });
    }
    return this.producer;
  }
}

const partitionName = (topic: string, partition: number) => `${topic}:${partition}`;

/**
 * The partition kafkajs chose for each message of the send under way. kafkajs asks the
 * partitioner for every message at every attempt (a message naming its partition gets that one),
 * and an attempt that sends anything has placed them all, so the last choice for each message is
 * where the acknowledged send put it.
 */
export class PartitionChoices {
  private readonly byMessage = new Map<Message, string>();

  begin(): void {
    this.byMessage.clear();
  }

  record(message: Message, topic: string, partition: number): void {
    this.byMessage.set(message, partitionName(topic, partition));
  }

  get chosen(): ReadonlySet<string> {
    return new Set(this.byMessage.values());
  }
}

/** kafkajs acknowledged a send of which some partitions were never written (see `KafkaMessaging.send`). */
export class UnwrittenPartitions extends Error {
  override name = 'UnwrittenPartitions';
  constructor(readonly partitions: readonly string[]) {
    super(`the broker never answered for ${partitions.join(', ')} (kafkajs skipped them after a leader moved); nothing of this send counts as written`);
  }
}

/** How often a consumer busy with one message (or batch) tells its group it is alive: its heartbeat interval. */
const HEARTBEAT_INTERVAL_MS = 1000;

/**
 * Runs `work` while heartbeating every HEARTBEAT_INTERVAL_MS. kafkajs heartbeats only between
 * messages, so a message that takes longer than the session (a slow recipient system, a material
 * fetched over a slow link) would otherwise cost the member its partitions and start a rebalance
 * mid-message; here the heartbeat does not depend on how long a message takes. A heartbeat that
 * fails (a rebalance under way) is left to kafkajs, which rejoins after the message.
 */
export async function whileHeartbeating<T>(heartbeat: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => heartbeat().catch(() => undefined), HEARTBEAT_INTERVAL_MS);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
