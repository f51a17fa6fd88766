import type { DatarunConfig } from '@datarun/config';
import { Producer, ProduceAcks, type MessageToProduce } from '@platformatic/kafka';
import type { Message } from 'kafkajs';
import { bytesOf, headerBytesOf } from './cloud-event.js';
import type { securityOf } from './kafka-security.js';

/** Messages for several topics, as `KafkaMessaging.publishBatch` takes them (broker topic names). */
export type TopicMessages = ReadonlyArray<{ readonly topic: string; readonly messages: readonly Message[] }>;

/**
 * The sending side on @platformatic/kafka instead of kafkajs (KAFKA_PRODUCER_CLIENT=platformatic):
 * the same contract as KafkaMessaging's own sends (idempotent, acks from all in-sync replicas,
 * messages of one partition in order), for comparing the two clients on the relay's drain and
 * on the broker faults (docs/architecture.md, "The Kafka client"). Consumers stay on kafkajs.
 */
export class PlatformaticSender {
  private producer?: Producer;

  constructor(
    private readonly config: DatarunConfig['kafka'],
    /** TLS and SASL as KafkaMessaging read them (securityOf). */
    private readonly security: ReturnType<typeof securityOf>,
  ) {}

  async send(topicMessages: TopicMessages): Promise<void> {
    const messages: MessageToProduce[] = topicMessages.flatMap(({ topic, messages: batch }) =>
      // Headers as its default serializers take them: names as bytes too (string names make every produce fail).
      batch.map((m) => ({
        topic,
        key: bytesOf(m.key),
        value: bytesOf(m.value),
        headers: m.headers && new Map(Object.entries(headerBytesOf(m.headers)).map(([name, value]) => [Buffer.from(name), value])),
      })),
    );
    try {
      await this.connected().send({ messages, acks: ProduceAcks.ALL });
    } catch (error) {
      // As with kafkajs: a failed send starts a fresh producer (a new producer id), and what it
      // did write arrives twice, which consumers drop by event id.
      this.discard();
      throw error;
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
  }

  private connected(): Producer {
    if (!this.producer) {
      const security = this.security;
      this.producer = new Producer({
        clientId: this.config.clientId,
        bootstrapBrokers: [...this.config.brokers],
        idempotent: true,
        acks: ProduceAcks.ALL,
        autocreateTopics: false,
        connectTimeout: 3000,
        timeout: 10_000,
        // Its default when idempotent is to retry for ever: a send must fail in bounded time, and
        // the relay retries it itself (as with kafkajs).
        retries: 5,
        ...(security.ssl ? { tls: security.ssl === true ? {} : { ca: security.ssl.ca } } : {}),
        ...(security.sasl && 'password' in security.sasl
          ? {
              sasl: {
                mechanism: security.sasl.mechanism.toUpperCase() as 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
                username: security.sasl.username,
                password: security.sasl.password,
              },
            }
          : {}),
      });
    }
    return this.producer;
  }

  private discard(): void {
    const producer = this.producer;
    this.producer = undefined;
    producer?.close(true).catch(() => undefined);
  }
}
