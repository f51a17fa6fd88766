import { z } from 'zod';
import { ConfigError } from './config-error.js';
import type { ConfigSection, DerivedDefault } from './section.js';
import { AUDIT_SECTION, type AuditConfig } from './sections/audit.js';
import { CONNECTOR_SECTION, type ConnectorConfig } from './sections/connector.js';
import { DATABASE_SECTION, type DatabaseConfig } from './sections/database.js';
import { EGRESS_SECTION, type EgressConfig } from './sections/egress.js';
import { GATEWAY_SECTION } from './sections/gateway.js';
import { HTTP_SECTION, type HttpConfig } from './sections/http.js';
import { KAFKA_SECTION, type KafkaConfig } from './sections/kafka.js';
import { KEYS_SECTION, type KeysConfig } from './sections/keys.js';
import { PROCESS_SECTION, type ProcessConfig, readProcess } from './sections/process.js';
import { RATE_LIMIT_SECTION, type RateLimitConfig } from './sections/rate-limit.js';
import { SANDBOX_SECTION, type SandboxConfig } from './sections/sandbox.js';
import { TRANSFERS_SECTION, type TransfersConfig } from './sections/transfers.js';
import { WEBHOOKS_SECTION, type WebhooksConfig } from './sections/webhooks.js';

/**
 * Every section, in the order docs/configuration.md shows them. Each declares its own variables
 * (sections/*.ts); they live here rather than in the libs that read them because every lib imports
 * this one for its types: a section in @datarun/db would make the config lib import db, which
 * imports config.
 */
export const CONFIG_SECTIONS = [
  PROCESS_SECTION,
  DATABASE_SECTION,
  KAFKA_SECTION,
  KEYS_SECTION,
  HTTP_SECTION,
  RATE_LIMIT_SECTION,
  GATEWAY_SECTION,
  EGRESS_SECTION,
  AUDIT_SECTION,
  TRANSFERS_SECTION,
  WEBHOOKS_SECTION,
  CONNECTOR_SECTION,
  SANDBOX_SECTION,
] as const;

/**
 * Every variable datarun reads, with the local machine's defaults (production sets them): the
 * sections' variables side by side. Each `.describe()` is the documentation: `npm run generate`
 * renders docs/configuration.md from the sections.
 */
export const CONFIG_VARIABLES = z.object({
  ...PROCESS_SECTION.variables.shape,
  ...DATABASE_SECTION.variables.shape,
  ...KAFKA_SECTION.variables.shape,
  ...KEYS_SECTION.variables.shape,
  ...HTTP_SECTION.variables.shape,
  ...RATE_LIMIT_SECTION.variables.shape,
  ...GATEWAY_SECTION.variables.shape,
  ...EGRESS_SECTION.variables.shape,
  ...AUDIT_SECTION.variables.shape,
  ...TRANSFERS_SECTION.variables.shape,
  ...WEBHOOKS_SECTION.variables.shape,
  ...CONNECTOR_SECTION.variables.shape,
  ...SANDBOX_SECTION.variables.shape,
});
/** The name of a configuration variable. */
export type ConfigVariable = keyof typeof CONFIG_VARIABLES.shape;

/** The whole configuration: every section's typed part, composed. */
export interface DatarunConfig extends ProcessConfig {
  readonly database: DatabaseConfig;
  readonly kafka: KafkaConfig;
  readonly keys: KeysConfig;
  readonly http: HttpConfig;
  readonly rateLimit: RateLimitConfig;
  /** Processes the gateway runs on its one port. */
  readonly gatewayWorkers: number;
  readonly egress: EgressConfig;
  readonly audit: AuditConfig;
  readonly transfers: TransfersConfig;
  readonly connector: ConnectorConfig;
  readonly webhooks: WebhooksConfig;
  readonly sandbox: SandboxConfig;
}

type AnySection = ConfigSection<z.ZodRawShape, unknown>;
const sections = CONFIG_SECTIONS as readonly AnySection[];

/**
 * The variables whose default is computed from others when they are unset: where loadConfig puts
 * each in the configuration, and what it depends on. docs/configuration.md shows these values as
 * `loadConfig({})` computes them, so the documentation follows the code.
 */
export const DERIVED_DEFAULTS = Object.fromEntries(
  sections.flatMap((s) => Object.entries(s.derived ?? {}) as Array<[ConfigVariable, DerivedDefault<DatarunConfig>]>),
) as Partial<Record<ConfigVariable, DerivedDefault<DatarunConfig>>>;

/** The section a variable belongs to. */
export function sectionOf(variable: ConfigVariable): (typeof CONFIG_SECTIONS)[number] {
  return CONFIG_SECTIONS.find((s) => Object.hasOwn(s.variables.shape, variable))!;
}

/**
 * Reads and validates the whole configuration once: every section's variables, then every
 * section's part. Throws ConfigError naming the first bad variable, in one line.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): DatarunConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = CONFIG_VARIABLES.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue.path[0]);
    throw new ConfigError(variable, issue.message, present[variable]);
  }
  const base = readProcess(parsed.data);
  return Object.assign({}, ...sections.map((s) => s.read(parsed.data, base))) as DatarunConfig;
}
