import { z } from 'zod';
import { ConfigError } from '../config-error.js';
import { defineSection } from '../section.js';
import { brokers, filePath } from '../values.js';

/**
 * `topicPrefix` goes before every topic and consumer group name this process uses (empty in
 * production, so names are those of docs/api.md): tests and shared clusters isolate themselves with it.
 */
export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topicPrefix: string;
  /** Replicas of each topic datarun creates (-1: the broker's `default.replication.factor`), and how many must acknowledge a write. */
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  /** TLS to the brokers; `caFile` when their certificates are not signed by a CA Node trusts. */
  readonly tls?: { readonly caFile?: string };
  /** Which client sends (the relay's requests, statuses, dead letters): kafkajs, or @platformatic/kafka to compare (docs/architecture.md). */
  readonly producerClient: 'kafkajs' | 'platformatic';
  /** SASL authentication to the brokers; the password is read from `passwordFile` when the client starts. */
  readonly sasl?: { readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; readonly username: string; readonly passwordFile: string };
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
  KAFKA_REPLICATION_FACTOR: z.coerce
    .number()
    .int()
    .min(-1)
    .max(7)
    .refine((n) => n !== 0, 'at least 1, or -1 for the broker default')
    .default(-1)
    .describe(
      "Replicas of every topic datarun creates (requests, statuses, records, dead letters, checkpoints); -1 takes the broker's `default.replication.factor` (1 on the local single broker). Production: 3. Topics that already exist keep theirs.",
    ),
  KAFKA_MIN_INSYNC_REPLICAS: z.coerce
    .number()
    .int()
    .min(1)
    .max(7)
    .default(1)
    .describe(
      '`min.insync.replicas` of every topic datarun creates: a write (always with acks from all in-sync replicas) succeeds only when this many replicas have it, so a write acknowledged survives losing one fewer broker. Production: 2 with three replicas (one broker may be lost without losing a write or stopping them). At most KAFKA_REPLICATION_FACTOR.',
    ),
  KAFKA_PRODUCER_CLIENT: z
    .enum(['kafkajs', 'platformatic'])
    .default('kafkajs')
    .describe(
      'The Kafka client every send goes through: kafkajs (the default, which the fault suite and the figures of docs/performance.md are measured on), or @platformatic/kafka, a maintained successor being compared with it (docs/architecture.md, "The Kafka client"). Consumers use kafkajs either way.',
    ),
  KAFKA_TLS: z
    .enum(['true', 'false'])
    .default('false')
    .describe(
      'Connect to the brokers over TLS (their SSL listener). Production: true, unless the network between the apps and the brokers is otherwise protected.',
    ),
  KAFKA_TLS_CA_FILE: filePath
    .optional()
    .describe("PEM file of the CA that signed the brokers' certificates, when Node does not trust it already (an internal CA). Only with KAFKA_TLS=true."),
  KAFKA_SASL_MECHANISM: z
    .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
    .optional()
    .describe(
      'SASL mechanism to authenticate to the brokers with (unset: none). `plain` only over TLS. Needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE.',
    ),
  KAFKA_SASL_USERNAME: z.string().min(1).max(255).optional().describe('SASL user of this process (each app may have its own, for ACLs per app).'),
  KAFKA_SASL_PASSWORD_FILE: filePath
    .optional()
    .describe('File holding the SASL password (one line), read when the process starts: the password never sits in the environment.'),
});

/** The rules between the variables, which one variable's schema cannot state; the first broken one is a ConfigError. */
function checkCombination(v: z.output<typeof variables>): void {
  if (v.KAFKA_REPLICATION_FACTOR > 0 && v.KAFKA_MIN_INSYNC_REPLICAS > v.KAFKA_REPLICATION_FACTOR) {
    throw new ConfigError(
      'KAFKA_MIN_INSYNC_REPLICAS',
      `at most KAFKA_REPLICATION_FACTOR (${v.KAFKA_REPLICATION_FACTOR}), or no write could ever be acknowledged`,
      String(v.KAFKA_MIN_INSYNC_REPLICAS),
    );
  }
  if (v.KAFKA_TLS_CA_FILE !== undefined && v.KAFKA_TLS !== 'true')
    throw new ConfigError('KAFKA_TLS_CA_FILE', 'to be set only with KAFKA_TLS=true', v.KAFKA_TLS_CA_FILE);
  if (v.KAFKA_SASL_MECHANISM === undefined) return;
  if (v.KAFKA_SASL_USERNAME === undefined) throw new ConfigError('KAFKA_SASL_USERNAME', `a user for KAFKA_SASL_MECHANISM ${v.KAFKA_SASL_MECHANISM}`);
  if (v.KAFKA_SASL_PASSWORD_FILE === undefined)
    throw new ConfigError('KAFKA_SASL_PASSWORD_FILE', `a password file for KAFKA_SASL_MECHANISM ${v.KAFKA_SASL_MECHANISM}`);
  if (v.KAFKA_SASL_MECHANISM === 'plain' && v.KAFKA_TLS !== 'true') {
    throw new ConfigError('KAFKA_SASL_MECHANISM', 'plain only with KAFKA_TLS=true, since it sends the password as it is (or scram-sha-512)', 'plain');
  }
}

export const KAFKA_SECTION = defineSection({
  name: 'kafka',
  owner: '@datarun/messaging',
  variables,
  read: (v): { readonly kafka: KafkaConfig } => {
    checkCombination(v);
    return {
      kafka: {
        brokers: v.KAFKA_BROKERS,
        clientId: v.KAFKA_CLIENT_ID,
        topicPrefix: v.KAFKA_TOPIC_PREFIX,
        replicationFactor: v.KAFKA_REPLICATION_FACTOR,
        minInsyncReplicas: v.KAFKA_MIN_INSYNC_REPLICAS,
        producerClient: v.KAFKA_PRODUCER_CLIENT,
        ...(v.KAFKA_TLS === 'true' ? { tls: v.KAFKA_TLS_CA_FILE ? { caFile: v.KAFKA_TLS_CA_FILE } : {} } : {}),
        ...(v.KAFKA_SASL_MECHANISM && v.KAFKA_SASL_USERNAME && v.KAFKA_SASL_PASSWORD_FILE
          ? { sasl: { mechanism: v.KAFKA_SASL_MECHANISM, username: v.KAFKA_SASL_USERNAME, passwordFile: v.KAFKA_SASL_PASSWORD_FILE } }
          : {}),
      },
    };
  },
  derived: {
    KAFKA_TLS_CA_FILE: { from: 'none: the CAs Node trusts (with KAFKA_TLS=true)', value: (c) => c.kafka.tls?.caFile },
    KAFKA_SASL_MECHANISM: { from: 'none: no SASL', value: (c) => c.kafka.sasl?.mechanism },
    KAFKA_SASL_USERNAME: { from: 'none: no SASL', value: (c) => c.kafka.sasl?.username },
    KAFKA_SASL_PASSWORD_FILE: { from: 'none: no SASL', value: (c) => c.kafka.sasl?.passwordFile },
  },
});
