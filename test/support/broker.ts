// A broker of the test's own, on other ports, started and stopped through the project's own
// deploy/local/kafka.sh: fault tests never stop the broker the rest of the suite uses.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { DatarunConfig } from '@datarun/config';
import { type Admin, type KafkaMessage, KafkaMessaging } from '@datarun/messaging';
import { eventually } from './eventually.js';
import { portAccepts } from './net.js';

const run = promisify(execFile);

export class OwnBroker {
  constructor(
    readonly port: number,
    readonly controllerPort = port + 1,
    /** More of deploy/local/kafka.sh's knobs (KAFKA_SASL_PORT, KAFKA_SASL_USERS, …). */
    private readonly env: Record<string, string> = {},
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.script('start');
  }

  /** SIGKILL, as a crash would. */
  async kill(): Promise<void> {
    await this.script('stop', '--hard');
  }

  async stop(): Promise<void> {
    await this.script('stop');
  }

  /** True when a TCP connection to the broker's port is accepted. */
  accepts(): Promise<boolean> {
    return portAccepts(this.port);
  }

  private async script(...args: string[]): Promise<void> {
    await run('bash', ['deploy/local/kafka.sh', ...args], {
      env: { ...process.env, KAFKA_PORT: String(this.port), KAFKA_CONTROLLER_PORT: String(this.controllerPort), ...this.env },
      timeout: 120_000,
    });
  }
}

/** Runs `work` with a Kafka client and a connected admin of its own on `kafka`'s cluster, both closed after. */
export async function withKafkaAdmin<T>(kafka: DatarunConfig['kafka'], work: (admin: Admin, messaging: KafkaMessaging) => Promise<T>): Promise<T> {
  const messaging = new KafkaMessaging(kafka);
  const admin = messaging.admin();
  try {
    await admin.connect();
    return await work(admin, messaging);
  } finally {
    await admin.disconnect().catch(() => undefined);
    await messaging.close();
  }
}

/** One record of a topic, where the broker holds it. */
export interface TopicRecord {
  readonly partition: number;
  readonly offset: string;
  readonly message: KafkaMessage;
}

/**
 * Every record of a topic (its name as datarun speaks it), up to the high watermarks of the moment
 * it is called, read by a consumer group of its own from the beginning: what the broker really
 * holds, copies included. Each partition@offset counts once, so a redelivery cannot stand in for a
 * record not read yet.
 */
export function readTopic(kafka: DatarunConfig['kafka'], topic: string): Promise<TopicRecord[]> {
  return withKafkaAdmin(kafka, async (admin, messaging) => {
    const records = new Map<string, TopicRecord>();
    const offsets = await admin.fetchTopicOffsets(messaging.physical(topic));
    const total = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    await messaging.consume({
      groupId: `topic-reader-${randomUUID()}`,
      topics: [topic],
      fromBeginning: true,
      onMessage: async ({ partition, message }) => {
        records.set(`${partition}@${message.offset}`, { partition, offset: message.offset, message });
      },
    });
    await eventually(`all ${total} records of ${topic} read`, () => records.size, { until: (n) => n >= total, timeoutMs: 60_000 });
    return [...records.values()];
  });
}
