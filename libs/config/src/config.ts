import { z } from 'zod';

/** A bad or missing setting. Its message is one line naming the variable and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    got?: string,
  ) {
    super(`${variable}: expected ${expected}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const postgresUrl = z.string().refine((v) => {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, 'a postgres://user@host:port/database URL');
const brokers = z
  .string()
  .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, 'a comma-separated list of host:port')
  .transform((v) => v.split(','));
const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier');

/** Every variable datarun reads, with the local machine's defaults (production sets them). */
const variables = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GATEWAY_PORT: port.default(3000),
  REGISTRY_PORT: port.default(3001),
  AUDIT_PORT: port.default(3002),
  RELAY_PORT: port.default(3003),
  UTILITY_BRIDGE_PORT: port.default(3004),
  SANDBOX_PORT: port.default(3010),
  UTILITY_KIND: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,31}$/, 'a utility kind such as water, electricity or gas')
    .default('water'),
  DATABASE_OWNER_URL: postgresUrl.optional(),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_SCHEMA: identifier.default('public'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(16),
  KAFKA_BROKERS: brokers.default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('datarun'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]{0,100}$/, 'letters, digits, dot, underscore or dash')
    .default(''),
  DATARUN_LOCAL_DIR: z.string().min(1).default('.local'),
  DATARUN_ADMIN_PUBLIC_KEY: z.string().min(1).optional(),
  DATARUN_CITIZEN_IDP_PUBLIC_KEY: z.string().min(1).optional(),
  DATARUN_AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  DATARUN_SUBJECT_HASH_KEY: z.string().min(1).optional(),
  DATARUN_AUDIT_PUBLIC_KEY: z.string().min(1).optional(),
  DATARUN_AUDIT_CHECKPOINT_FILE: z.string().min(1).optional(),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86400).default(60),
  // Development defaults high enough that `npm run bench` never meets them (DECISIONS).
  // Gateway processes sharing its port (node:cluster); the gateway is stateless, the audit chain
  // serialises its writers itself.
  GATEWAY_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(1).default(100_000),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100_000),
  AUDIT_RETENTION_MONTHS: z.coerce.number().int().min(0).max(1200).default(0),
  DATARUN_AUDIT_ARCHIVE_DIR: z.string().min(1).optional(),
  DATARUN_MATERIAL_LINK_KEY: z.string().min(1).optional(),
  GATEWAY_PUBLIC_URL: z.string().url().optional(),
  MATERIAL_LINK_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(6 * 3600),
  TRANSFER_FOLLOW_UP_SECONDS: z.coerce.number().int().min(1).default(900),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  RELAY_POLL_MS: z.coerce.number().int().min(10).max(60000).default(50),
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  UTILITY_SYSTEM_URL: z.string().url().optional(),
  BRIDGE_COMMIT_EVERY: z.coerce.number().int().min(1).max(100_000).default(20),
  BRIDGE_COMMIT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000),
  SANDBOX_PEOPLE: z.coerce.number().int().min(100).max(1_000_000, 'a whole number of people from 100 to 1000000').default(2000),
  SANDBOX_SEED: z.coerce.number().int().min(-2147483648).max(2147483647).default(42),
});

export type AppName = 'gateway' | 'registry' | 'audit' | 'relay' | 'utility-bridge' | 'sandbox';

export interface DatabaseConfig {
  /** The applications' role: on the audit table it may insert and select, never update or delete. */
  readonly url: string;
  /** The owner's role, used only to run migrations. */
  readonly ownerUrl: string;
  /** The role name the migrations grant rights to (the user of `url`). */
  readonly appRole: string;
  readonly schema: string;
  readonly poolSize: number;
}

export interface DatarunConfig {
  readonly env: 'development' | 'test' | 'production';
  readonly host: string;
  readonly logLevel: string;
  readonly ports: Readonly<Record<AppName, number>>;
  readonly database: DatabaseConfig;
  /**
   * `topicPrefix` goes before every topic and consumer group name this process uses (empty in
   * production, so names are API.md's): tests and shared clusters isolate themselves with it.
   */
  readonly kafka: { readonly brokers: readonly string[]; readonly clientId: string; readonly topicPrefix: string };
  readonly localDir: string;
  /** The utility a bridge process serves (one process per kind). */
  readonly utilityKind: string;
  /** Paths of key files (PEM or JWKS); the files may be missing on a machine that has none. */
  readonly keys: {
    readonly adminPublicKey: string;
    readonly citizenIdpPublicKey: string;
    readonly auditSigningKey: string;
    readonly subjectHashKey: string;
    /** The HMAC key of material links (`GET /v1/materials/{id}`); the relay signs, the gateway checks. */
    readonly materialLinkKey: string;
    /** The audit key's public half, for verifiers that hold no private key (derived from the signing key when unset). */
    readonly auditPublicKey?: string;
  };
  /** Per member and per process: requests a second on average, and at once. */
  /** Processes the gateway runs on its one port. */
  readonly gatewayWorkers: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  readonly audit: {
    /** Where signed checkpoints are also appended (NDJSON), outside the database. */
    readonly checkpointFile: string;
    /** Seconds between periodic checkpoints; 0 turns them off. */
    readonly checkpointIntervalSeconds: number;
    /** Months kept in the database before `npm run audit:archive -- --expired` archives them; 0 = forever. */
    readonly retentionMonths: number;
    /** Where archived months go, and where the verifier reads them from. */
    readonly archiveDir: string;
  };
  readonly transfers: {
    /** Where utilities reach the gateway for material links. */
    readonly gatewayPublicUrl: string;
    readonly materialLinkTtlSeconds: number;
    /** A request with no status after this long is flagged for follow-up on its case. */
    readonly followUpSeconds: number;
    /** Outbox rows per relay send, and the pause between polls when the outbox is empty. */
    readonly relayBatchSize: number;
    readonly relayPollMs: number;
    /** Partitions of the topics the project creates. */
    readonly topicPartitions: number;
  };
  /** The utility's own system a bridge applies transfers to (the sandbox's simulation by default). */
  readonly utilitySystemUrl: string;
  /** A bridge commits its offsets every this many requests or this often (only for work already in its inbox). */
  readonly bridgeCommit: { readonly messages: number; readonly ms: number };
  /** The sandbox's synthetic population (test/fixtures/population.ts): how many people, which seed. */
  readonly sandbox: { readonly people: number; readonly seed: number };
}

/** The application role used when only the owner URL is given (local development and tests). */
export const DEFAULT_APP_ROLE = 'datarun_app';
const DEFAULT_OWNER_URL = 'postgres://postgres@127.0.0.1:5432/datarun';

/**
 * Reads and validates the configuration. Throws ConfigError naming the first bad variable.
 * Without DATABASE_URL, the applications connect as `datarun_app` to the owner's database: the
 * migrations create that role, so a fresh machine needs only the owner's URL.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): DatarunConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = variables.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0]);
    throw new ConfigError(variable, issue.message, present[variable]);
  }
  const v = parsed.data;
  const ownerUrl = v.DATABASE_OWNER_URL ?? v.DATABASE_URL ?? DEFAULT_OWNER_URL;
  const url = v.DATABASE_URL ?? withUser(ownerUrl, DEFAULT_APP_ROLE);
  const appRole = decodeURIComponent(new URL(url).username);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(appRole)) {
    throw new ConfigError('DATABASE_URL', 'a user name that is a lower-case SQL identifier', appRole);
  }
  return {
    env: v.NODE_ENV,
    host: v.HOST,
    logLevel: v.LOG_LEVEL,
    ports: {
      gateway: v.GATEWAY_PORT,
      registry: v.REGISTRY_PORT,
      audit: v.AUDIT_PORT,
      relay: v.RELAY_PORT,
      'utility-bridge': v.UTILITY_BRIDGE_PORT,
      sandbox: v.SANDBOX_PORT,
    },
    database: { url, ownerUrl, appRole, schema: v.DATABASE_SCHEMA, poolSize: v.DATABASE_POOL_SIZE },
    kafka: { brokers: v.KAFKA_BROKERS, clientId: v.KAFKA_CLIENT_ID, topicPrefix: v.KAFKA_TOPIC_PREFIX },
    localDir: v.DATARUN_LOCAL_DIR,
    utilityKind: v.UTILITY_KIND,
    // Unset keys fall back to the development pairs `npm start` makes in .local/keys (API.md).
    keys: {
      adminPublicKey: v.DATARUN_ADMIN_PUBLIC_KEY ?? `${v.DATARUN_LOCAL_DIR}/keys/admin.pub.pem`,
      citizenIdpPublicKey: v.DATARUN_CITIZEN_IDP_PUBLIC_KEY ?? `${v.DATARUN_LOCAL_DIR}/keys/citizen-idp.pub.pem`,
      auditSigningKey: v.DATARUN_AUDIT_SIGNING_KEY ?? `${v.DATARUN_LOCAL_DIR}/keys/audit.key.pem`,
      subjectHashKey: v.DATARUN_SUBJECT_HASH_KEY ?? `${v.DATARUN_LOCAL_DIR}/keys/subject-hash.key`,
      materialLinkKey: v.DATARUN_MATERIAL_LINK_KEY ?? `${v.DATARUN_LOCAL_DIR}/keys/material-link.key`,
      auditPublicKey: v.DATARUN_AUDIT_PUBLIC_KEY,
    },
    gatewayWorkers: v.GATEWAY_WORKERS,
    rateLimit: { perSecond: v.RATE_LIMIT_PER_SECOND, burst: v.RATE_LIMIT_BURST },
    audit: {
      checkpointFile: v.DATARUN_AUDIT_CHECKPOINT_FILE ?? `${v.DATARUN_LOCAL_DIR}/audit/checkpoints.ndjson`,
      checkpointIntervalSeconds: v.AUDIT_CHECKPOINT_INTERVAL_SECONDS,
      retentionMonths: v.AUDIT_RETENTION_MONTHS,
      archiveDir: v.DATARUN_AUDIT_ARCHIVE_DIR ?? `${v.DATARUN_LOCAL_DIR}/audit/archive`,
    },
    sandbox: { people: v.SANDBOX_PEOPLE, seed: v.SANDBOX_SEED },
    transfers: {
      gatewayPublicUrl: (v.GATEWAY_PUBLIC_URL ?? `http://127.0.0.1:${v.GATEWAY_PORT}`).replace(/\/+$/, ''),
      materialLinkTtlSeconds: v.MATERIAL_LINK_TTL_SECONDS,
      followUpSeconds: v.TRANSFER_FOLLOW_UP_SECONDS,
      relayBatchSize: v.RELAY_BATCH_SIZE,
      relayPollMs: v.RELAY_POLL_MS,
      topicPartitions: v.KAFKA_TOPIC_PARTITIONS,
    },
    bridgeCommit: { messages: v.BRIDGE_COMMIT_EVERY, ms: v.BRIDGE_COMMIT_INTERVAL_MS },
    utilitySystemUrl: (v.UTILITY_SYSTEM_URL ?? `http://127.0.0.1:${v.SANDBOX_PORT}/v1/utilities/${v.UTILITY_KIND}`).replace(/\/+$/, ''),
  };
}

function withUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
}
