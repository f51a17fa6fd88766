import { z } from 'zod';
import { defineSection } from '../section.js';
import { brokers } from '../values.js';

/**
 * `topicPrefix` goes before every topic and consumer group name this process uses (empty in
 * production, so names are those of docs/api.md): tests and shared clusters isolate themselves with it.
 */
export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topicPrefix: string;
}

const variables = z.object({
  KAFKA_BROKERS: brokers
    .default(['127.0.0.1:9092'])
    .describe('Kafka bootstrap brokers. `npm start` and `npm test` take it from `.local/infra.env`. Production: at least three brokers.'),
  KAFKA_CLIENT_ID: z.string().min(1).default('datarun').describe('Kafka client id of every process (shows in broker logs and quotas).'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{0,100}$/, 'letters, digits, dot, underscore or dash')
    .default('')
    .describe(
      "Goes before every topic and consumer group name (tests and shared clusters isolate themselves with it). Production: empty, so that names are the public contract's.",
    ),
});

export const KAFKA_SECTION = defineSection({
  name: 'kafka',
  owner: '@datarun/messaging',
  variables,
  read: (v): { readonly kafka: KafkaConfig } => ({ kafka: { brokers: v.KAFKA_BROKERS, clientId: v.KAFKA_CLIENT_ID, topicPrefix: v.KAFKA_TOPIC_PREFIX } }),
});
