import { type Admin, type ITopicConfig, type Kafka, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import type { Logger as PinoLogger } from 'pino';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly config?: Readonly<Record<string, string>>;
}

/** How many replicas a new topic gets (-1: the broker's default), and how many must acknowledge a write (KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS). */
export interface TopicReplication {
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
}

const BROKER_DEFAULTS: TopicReplication = { replicationFactor: -1, minInsyncReplicas: 1 };

/**
 * Creates the topics of `specs` that do not exist yet (`physical` gives a topic's broker name),
 * each with `replication` unless its spec says otherwise. A topic that exists keeps what it has:
 * changing the replicas of a live topic is a reassignment an operator plans.
 */
export async function createMissingTopics(
  kafka: Kafka,
  specs: readonly TopicSpec[],
  physical: (topic: string) => string,
  replication: TopicReplication = BROKER_DEFAULTS,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing: ITopicConfig[] = specs
      .filter((s) => !existing.has(physical(s.topic)))
      .map((s) => ({
        topic: physical(s.topic),
        numPartitions: s.partitions,
        replicationFactor: replication.replicationFactor,
        configEntries: Object.entries({ 'min.insync.replicas': String(replication.minInsyncReplicas), ...s.config }).map(([name, value]) => ({ name, value })),
      }));
    if (missing.length > 0) {
      try {
        // waitForLeaders: false — kafkajs' own wait gives up on the UNKNOWN_TOPIC_OR_PARTITION a
        // KRaft broker answers right after a create; leadersElected below waits that out instead.
        await admin.createTopics({ topics: missing, waitForLeaders: false });
      } catch (error) {
        // Another process (or this one's other component) created them meanwhile: that is success.
        if (!isAlreadyExists(error)) throw error;
      }
      await leadersElected(
        admin,
        missing.map((t) => t.topic),
      );
    }
  } finally {
    await admin.disconnect();
  }
}

const LEADER_WAIT_MS = 30_000;

/**
 * Waits until every partition of `topics` has a leader. kafkajs' own `waitForLeaders` retries only
 * LEADER_NOT_AVAILABLE, but a KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION for a moment after
 * creating a topic while its metadata catches up, which failed topic creation under load.
 */
async function leadersElected(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    try {
      const { topics: found } = await admin.fetchTopicMetadata({ topics });
      if (found.length === topics.length && found.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (!isRetriableMetadataError(error) || Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no leader for every partition of ${topics.join(', ')} after ${LEADER_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function isRetriableMetadataError(error: unknown): boolean {
  const type = (error as { type?: unknown }).type;
  return type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE' || (error as { retriable?: unknown }).retriable === true;
}

function isAlreadyExists(error: unknown): boolean {
  if ((error as { type?: unknown }).type === 'TOPIC_ALREADY_EXISTS') return true;
  const errors = (error as { errors?: unknown }).errors;
  return Array.isArray(errors) && errors.length > 0 && errors.every((e: { type?: unknown }) => e.type === 'TOPIC_ALREADY_EXISTS');
}

/** kafkajs' own logs, to the app's pino logger (so they carry the request context's fields too). */
export function pinoLogCreator(logger: PinoLogger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...extra } = log;
      const error = extra.error instanceof Error ? `${extra.error.name}: ${extra.error.message}` : extra.error;
      const fields = { component: 'kafkajs', namespace: log.namespace, broker: extra.broker, groupId: extra.groupId, topic: extra.topic, error };
      // Two components creating the same topic at once is success for us (ensureTopics re-checks);
      // kafkajs still logs the broker's "already exists" answer as an error.
      // A new topic's metadata is briefly unknown on a KRaft broker; leadersElected waits it out.
      if (message.startsWith('Response CreateTopics') && String(error).includes('Topic creation errors')) logger.debug(fields, message);
      else if (message.startsWith('Response Metadata') && String(error).includes('does not host this topic-partition')) logger.debug(fields, message);
      else if (level <= KafkaLogLevel.ERROR) logger.error(fields, message);
      else if (level === KafkaLogLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}
