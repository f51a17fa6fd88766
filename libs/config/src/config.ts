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
// An empty variable counts as unset (loadConfig drops it), so these minimums only name what is expected.
const filePath = z.string().min(1, 'a file path');
const folderPath = z.string().min(1, 'a folder path');
const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case SQL identifier');

/**
 * Every variable datarun reads, with the local machine's defaults (production sets them). Each
 * `.describe()` is the documentation: `npm run generate` renders docs/configuration.md from this object.
 */
export const CONFIG_VARIABLES = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe(
      'The kind of deployment. Validated and kept in the configuration; datarun itself does not change behaviour on it today. Production: `production`.',
    ),
  HOST: z
    .string()
    .min(1, 'a host name or IP address')
    .default('127.0.0.1')
    .describe(
      'The interface every app listens on. The default keeps the apps on the loopback interface of a development machine; in a container or behind a load balancer set `0.0.0.0`.',
    ),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level of every process. `npm test` sets `silent`; operators usually keep `info` (one line per request, probes excluded).'),
  GATEWAY_PORT: port.default(3000).describe('Port of the gateway (service-hall systems: cases, lookups, verifications, evidence bundles, material links).'),
  REGISTRY_PORT: port.default(3001).describe('Port of the registry (departments and administrators: members, keys, sources, grants, matters, record ingest).'),
  AUDIT_PORT: port.default(3002).describe('Port of the audit app (auditors and citizens: search, verification, checkpoints, reports, access log).'),
  RELAY_PORT: port.default(3003).describe('Port of the relay (outbox publisher, status and record consumers, dead-letter operations).'),
  UTILITY_BRIDGE_PORT: port
    .default(3004)
    .describe('Port of a utility bridge process. `npm start` runs one bridge per utility kind on this port and the next two (water, electricity, gas).'),
  SANDBOX_PORT: port.default(3010).describe('Port of the sandbox (simulated departments and utility systems with synthetic data). Not deployed in production.'),
  UTILITY_KIND: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,31}$/, 'a utility kind such as water, electricity or gas')
    .default('water')
    .describe(
      'The utility a bridge process serves: it consumes `datarun.utility.<kind>.transfer-requested.v1` and `…discount-requested.v1`. One bridge process per kind.',
    ),
  DATABASE_OWNER_URL: postgresUrl
    .optional()
    .describe(
      'PostgreSQL URL of the owner role, used only to run migrations (`npm run migrate`) and to archive audit months. `npm start` and `npm test` take it from `.local/infra.env`. Production: a role that owns the schema, used by the migration step only.',
    ),
  DATABASE_URL: postgresUrl
    .optional()
    .describe(
      'PostgreSQL URL the apps connect with. Its role may insert and select on the audit table, never update or delete: the migrations create the role when it is missing and grant it exactly that. Production: set it and `DATABASE_OWNER_URL`, two different roles (a role that owns the tables could grant itself back what the migrations took away).',
    ),
  DATABASE_SCHEMA: identifier
    .default('public')
    .describe('PostgreSQL schema of every table (the session search_path). Tests give each file a schema of its own.'),
  DATABASE_POOL_SIZE: z.coerce
    .number()
    .int()
    .min(1)
    .max(200)
    .default(16)
    .describe('Connections each app process keeps open as the application role (the owner role uses 2).'),
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
  DATARUN_LOCAL_DIR: folderPath
    .default('.local')
    .describe('Folder of local state: development keys (`keys/`), audit checkpoint copies and archives (`audit/`), the local infrastructure. Git-ignored.'),
  DATARUN_ADMIN_PUBLIC_KEY: filePath
    .optional()
    .describe(
      "File with the public key of the platform administrator `datarun.admin` (PEM, a JWK or a JWKS; a PEM gets key id `admin`). The registry loads it at boot. Production: the administrators' public key; the private half never reaches datarun.",
    ),
  DATARUN_CITIZEN_IDP_PUBLIC_KEY: filePath
    .optional()
    .describe(
      "File with the public key of the citizen identity provider (PEM, JWK or JWKS). Tokens with `iss` `citizen-idp` are verified with it and get the role `citizen`; without the file, citizen tokens are refused. Production: the provider's public key.",
    ),
  DATARUN_AUDIT_SIGNING_KEY: filePath
    .optional()
    .describe(
      'File with the EC P-256 private key (PEM) the audit app signs checkpoints with (key id `audit`). Production: a platform key readable by the audit app only; see docs/operations.md for its rotation.',
    ),
  DATARUN_SUBJECT_HASH_KEY: filePath
    .optional()
    .describe(
      "File with the HMAC key (base64url, at least 16 bytes) of the audit log's subject pseudonyms. Every app that audits refuses to start without it. Production: a secret outside the database, identical in every app; changing it makes earlier pseudonyms unsearchable.",
    ),
  DATARUN_AUDIT_PUBLIC_KEY: filePath
    .optional()
    .describe(
      'File with the public half of the audit signing key (PEM), for verifiers that hold no private key (`GET /v1/audit/verify`, `npm run audit:verify`). When unset, it is derived from the signing key.',
    ),
  DATARUN_AUDIT_CHECKPOINT_FILE: filePath
    .optional()
    .describe('NDJSON file the audit app appends every signed checkpoint to (a copy outside the database, read by the verifier).'),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(86400)
    .default(60)
    .describe(
      'Seconds between the periodic signed checkpoints of the audit app (only when the chain has moved); 0 signs only on demand (`POST /v1/audit/checkpoints`).',
    ),
  // The gateway is stateless and the audit chain serialises its writers itself, so several
  // gateway processes may share its port.
  GATEWAY_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe('Gateway processes sharing its port (node:cluster). One Node process uses one core; more help only where PostgreSQL has cores of its own.'),
  // Development defaults high enough that `npm run bench` never meets them.
  RATE_LIMIT_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1)
    .default(100_000)
    .describe(
      'Requests a second each member may make on average, per process (the cluster-wide limit is this times the replicas); above it `429 RATE_LIMITED` with `Retry-After`. The default never throttles the benchmark; production: what a member needs.',
    ),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100_000).describe("Requests a member may make at once, per process (the token bucket's size)."),
  AUDIT_RETENTION_MONTHS: z.coerce
    .number()
    .int()
    .min(0)
    .max(1200)
    .default(0)
    .describe(
      'Months of audit events kept in the database; `npm run audit:archive -- --expired` archives older months to files and drops their partitions. 0 keeps everything.',
    ),
  DATARUN_AUDIT_ARCHIVE_DIR: folderPath
    .optional()
    .describe(
      'Folder of the archived audit months (`audit-YYYY-MM.ndjson`); the verifier reads them before the database. Production: durable storage, backed up.',
    ),
  DATARUN_MATERIAL_LINK_KEY: filePath
    .optional()
    .describe(
      'File with the HMAC key (base64url, at least 32 bytes) of material links: the relay signs them, the gateway checks them. Production: a secret shared by relay and gateway only.',
    ),
  GATEWAY_PUBLIC_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "Base URL at which utilities reach the gateway's material links (`GET /v1/materials/{id}`). Production: the gateway's address as the utilities see it.",
    ),
  MATERIAL_LINK_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(6 * 3600)
    .describe('Lifetime of a material link in seconds (60 s to 7 days); a later fetch is `403 LINK_EXPIRED` and the request must be re-sent.'),
  TRANSFER_FOLLOW_UP_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(900)
    .describe('A utility request with no final status after this many seconds is flagged `followUp` on its case and counted in `datarun_transfers_overdue`.'),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(1000).describe('Outbox rows the relay reads and sends per batch.'),
  RELAY_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(60000)
    .default(50)
    .describe('Milliseconds the relay waits before polling again when the outbox had less than a batch.'),
  KAFKA_TOPIC_PARTITIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(6)
    .describe('Partitions of the topics datarun creates (utility, status and records topics; the dead-letter and checkpoint topics have one).'),
  UTILITY_SYSTEM_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "The utility's own system a bridge applies requests to. The default is the sandbox's simulation of that utility; production: the utility's system.",
    ),
  BRIDGE_COMMIT_EVERY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(20)
    .describe('A bridge commits its consumer offsets every this many requests (only for requests already recorded in its inbox).'),
  BRIDGE_COMMIT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000).describe('…or at least this often, in milliseconds.'),
  SANDBOX_PEOPLE: z.coerce
    .number()
    .int()
    .min(100)
    .max(1_000_000, 'a whole number of people from 100 to 1000000')
    .default(2000)
    .describe('People of the synthetic city: the records the sandbox serves and that `npm start` loads into the four replica sources.'),
  SANDBOX_SEED: z.coerce
    .number()
    .int()
    .min(-2147483648)
    .max(2147483647)
    .default(42)
    .describe('Seed of the synthetic city: the same seed and size give the same people (the README walkthrough relies on the default).'),
});
/** The name of a configuration variable. */
export type ConfigVariable = keyof typeof CONFIG_VARIABLES.shape;

/**
 * The variables whose default is computed from others when they are unset: where loadConfig puts
 * each in the configuration, and what it depends on. docs/configuration.md shows these values as
 * `loadConfig({})` computes them, so the documentation follows the code.
 */
export const DERIVED_DEFAULTS: Partial<Record<ConfigVariable, { readonly from: string; readonly value: (c: DatarunConfig) => string | undefined }>> = {
  DATABASE_OWNER_URL: { from: 'DATABASE_URL when set', value: (c) => c.database.ownerUrl },
  DATABASE_URL: { from: 'DATABASE_OWNER_URL with the user `datarun_app` and no password', value: (c) => c.database.url },
  DATARUN_ADMIN_PUBLIC_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.adminPublicKey },
  DATARUN_CITIZEN_IDP_PUBLIC_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.citizenIdpPublicKey },
  DATARUN_AUDIT_SIGNING_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.auditSigningKey },
  DATARUN_SUBJECT_HASH_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.subjectHashKey },
  DATARUN_AUDIT_PUBLIC_KEY: { from: 'the public half of DATARUN_AUDIT_SIGNING_KEY', value: (c) => c.keys.auditPublicKey },
  DATARUN_AUDIT_CHECKPOINT_FILE: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.audit.checkpointFile },
  DATARUN_AUDIT_ARCHIVE_DIR: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.audit.archiveDir },
  DATARUN_MATERIAL_LINK_KEY: { from: 'DATARUN_LOCAL_DIR', value: (c) => c.keys.materialLinkKey },
  GATEWAY_PUBLIC_URL: { from: 'GATEWAY_PORT', value: (c) => c.transfers.gatewayPublicUrl },
  UTILITY_SYSTEM_URL: { from: 'SANDBOX_PORT and UTILITY_KIND', value: (c) => c.utilitySystemUrl },
};

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
   * production, so names are those of docs/api.md): tests and shared clusters isolate themselves with it.
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
  const parsed = CONFIG_VARIABLES.safeParse(present);
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
    // Unset keys fall back to the development pairs `npm start` makes in .local/keys (docs/api.md).
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
