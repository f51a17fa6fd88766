import { type ITopicConfig, type Kafka, logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import type { Logger as PinoLogger } from 'pino';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly config?: Readonly<Record<string, string>>;
}

/** Creates the topics of `specs` that do not exist yet (`physical` gives a topic's broker name). */
export async function createMissingTopics(kafka: Kafka, specs: readonly TopicSpec[], physical: (topic: string) => string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing: ITopicConfig[] = specs
      .filter((s) => !existing.has(physical(s.topic)))
      .map((s) => ({
        topic: physical(s.topic),
        numPartitions: s.partitions,
        replicationFactor: -1, // the broker's default: 1 locally, the cluster's setting in production
        configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
      }));
    if (missing.length > 0) {
      try {
        await admin.createTopics({ topics: missing, waitForLeaders: true });
      } catch (error) {
        // Another process (or this one's other component) created them meanwhile: that is success.
        const now = new Set(await admin.listTopics());
        if (!missing.every((t) => now.has(t.topic))) throw error;
      }
    }
  } finally {
    await admin.disconnect();
  }
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
      if (message.startsWith('Response CreateTopics') && String(error).includes('Topic creation errors')) logger.debug(fields, message);
      else if (level <= KafkaLogLevel.ERROR) logger.error(fields, message);
      else if (level === KafkaLogLevel.WARN) logger.warn(fields, message);
      else logger.debug(fields, message);
    };
}
