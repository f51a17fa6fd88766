import { z } from 'zod';
import { defineSection } from '../section.js';
import { baseUrl, filePath } from '../values.js';
import type { ProcessConfig } from './process.js';

/** The member a connector process receives for, and everything derived from it. */
export interface ConnectorMember {
  /** Its member id: `ce_source` of its statuses, the issuer of its material-fetch tokens, its consumer group. */
  readonly id: string;
  /** The utility kind it receives transfers and discounts for, when it is a utility kind's recipient. */
  readonly utilityKind?: string;
  /** File with the member's private key, and the key id its public half is registered under. */
  readonly privateKey: string;
  readonly keyId: string;
  /** Its own system, which it applies requests to (the sandbox's simulation by default). */
  readonly systemUrl: string;
  /** The SQLite file of its inbox (`:memory:` keeps it in the process only). */
  readonly inbox: string;
}

export interface ConnectorConfig {
  /** Undefined when CONNECTOR_MEMBER_ID is unset: no connector can start then (every other app ignores this section). */
  readonly member?: ConnectorMember;
  /** A connector commits its offsets every this many requests or this often (only for work already in its inbox). */
  readonly commit: { readonly messages: number; readonly ms: number };
  /**
   * A request that fails for a reason that may pass (its system down or slow, a gateway 5xx) is
   * set aside and tried again after a backoff that doubles from `baseMs` up to `maxMs` (with
   * jitter), while the rest flow; once it has failed for `budgetMs` it is parked until an operator
   * resumes it.
   */
  readonly retry: { readonly baseMs: number; readonly maxMs: number; readonly budgetMs: number };
}

/** What may be given of a connector's member; the rest is derived from the member id (connectorMember). */
export interface ConnectorMemberSettings {
  readonly id: string;
  readonly utilityKind?: string;
  readonly privateKey?: string;
  readonly keyId?: string;
  readonly systemUrl?: string;
  readonly inbox?: string;
}

/**
 * The sandbox's simulation of a recipient's system: a utility kind's simulated company, or the
 * simulated system of a member that receives for no utility kind. The development default, which
 * production refuses.
 */
export function sandboxRecipientSystemUrl(sandboxPort: number, recipient: { readonly id: string; readonly utilityKind?: string }): string {
  return recipient.utilityKind
    ? `http://127.0.0.1:${sandboxPort}/v1/utilities/${recipient.utilityKind}`
    : `http://127.0.0.1:${sandboxPort}/v1/recipients/${recipient.id}`;
}

/**
 * A connector's member with every unset setting at its default: the development key pair of a
 * demo member is `<localDir>/keys/<member id>.key.pem` with kid the member id, its inbox a file
 * of its own under `<localDir>/connector`, its system the sandbox's simulation.
 */
export function connectorMember(base: Pick<ProcessConfig, 'ports' | 'localDir'>, given: ConnectorMemberSettings): ConnectorMember {
  return {
    id: given.id,
    ...(given.utilityKind ? { utilityKind: given.utilityKind } : {}),
    privateKey: given.privateKey ?? `${base.localDir}/keys/${given.id}.key.pem`,
    keyId: given.keyId ?? given.id,
    systemUrl: baseUrl(given.systemUrl ?? sandboxRecipientSystemUrl(base.ports.sandbox, given)),
    inbox: given.inbox ?? `${base.localDir}/connector/${given.id}.sqlite`,
  };
}

const variables = z.object({
  CONNECTOR_MEMBER_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,127}$/, 'a member id')
    .optional()
    .describe(
      'The recipient member a connector process receives for (one process per member): it consumes that member’s request topics as group `datarun-connector-<member id>`, fetches materials under a token of this member, and its statuses go out with this `ce_source`, signed with the member’s key. A connector does not start without it. `npm start` runs one connector per demo member that receives by Kafka, each with its own.',
    ),
  CONNECTOR_UTILITY_KIND: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,31}$/, 'a utility kind such as water, electricity or gas')
    .optional()
    .describe(
      'The utility kind the member receives for, if it is a utility kind’s registered recipient: the connector then also consumes `datarun.utility.<kind>.transfer-requested.v1` and `…discount-requested.v1`. Unset, it consumes the member’s own topic `datarun.recipients.<member id>.requested.v1` only (benefits).',
    ),
  CONNECTOR_MEMBER_KEY: filePath
    .optional()
    .describe(
      "File with the member's private key (PEM, EC P-256 or RSA ≥ 2048), whose public half is registered with the member: it mints the token the connector fetches materials with, and signs every status (`datarun-signature`) and dead letter it publishes. Production refuses a missing file or one under the development folder; development and test run without it (statuses then go out unsigned and are dead-lettered by the relay, and material fetches are refused). Production: the member's key from its secret store.",
    ),
  CONNECTOR_MEMBER_KEY_ID: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe("The key id (`kid`) under which CONNECTOR_MEMBER_KEY's public half is registered with the member; the development keys use the member id."),
  CONNECTOR_SYSTEM_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "The member's own system, which the connector applies requests to (`POST <url>/requests`, idempotent by requestId) and whose `GET <url>` is its readiness. The default is the sandbox's simulation (a utility kind's simulated company, else the member's simulated system), which production refuses.",
    ),
  CONNECTOR_INBOX: filePath
    .optional()
    .describe(
      'The SQLite file of the connector’s inbox: the request ids it has applied, with their outcome, which make a redelivered request a no-op whose status is sent again. The connector’s own storage, never datarun’s database. `:memory:` keeps it in the process only (production refuses it: a restart would forget what was applied).',
    ),
  CONNECTOR_COMMIT_EVERY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(20)
    .describe('A connector commits its consumer offsets every this many requests (only for requests already recorded in its inbox).'),
  CONNECTOR_COMMIT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000).describe('…or at least this often, in milliseconds.'),
  CONNECTOR_RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(3_600_000)
    .default(1000)
    .describe(
      'A request that fails for a reason that may pass (its system answers 5xx or 429 or times out, the gateway is away) is set aside in the inbox file and tried again after this long, then twice as long each time (with jitter), while the requests behind it flow on.',
    ),
  CONNECTOR_RETRY_MAX_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(86_400_000)
    .default(300_000)
    .describe('The longest wait between two tries of a set-aside request, in milliseconds.'),
  CONNECTOR_RETRY_BUDGET_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(86_400)
    .describe(
      'How long a request is retried before it is parked: kept in the inbox file, counted in `datarun_connector_deferred_requests{state="parked"}`, never dead-lettered, and tried again when an operator runs `datarun connector resume`.',
    ),
});

export const CONNECTOR_SECTION = defineSection({
  name: 'connector',
  owner: '@datarun/connector (the connector a recipient runs)',
  variables,
  read: (v, base): { connector: ConnectorConfig } => ({
    connector: {
      ...(v.CONNECTOR_MEMBER_ID
        ? {
            member: connectorMember(base, {
              id: v.CONNECTOR_MEMBER_ID,
              utilityKind: v.CONNECTOR_UTILITY_KIND,
              privateKey: v.CONNECTOR_MEMBER_KEY,
              keyId: v.CONNECTOR_MEMBER_KEY_ID,
              systemUrl: v.CONNECTOR_SYSTEM_URL,
              inbox: v.CONNECTOR_INBOX,
            }),
          }
        : {}),
      commit: { messages: v.CONNECTOR_COMMIT_EVERY, ms: v.CONNECTOR_COMMIT_INTERVAL_MS },
      retry: { baseMs: v.CONNECTOR_RETRY_BASE_MS, maxMs: v.CONNECTOR_RETRY_MAX_MS, budgetMs: v.CONNECTOR_RETRY_BUDGET_SECONDS * 1000 },
    },
  }),
  derived: {
    // No default: a connector serves the member it is told (production has no demo member to fall back on).
    CONNECTOR_MEMBER_ID: { from: 'none: a connector does not start without it', value: (c) => c.connector.member?.id },
    CONNECTOR_UTILITY_KIND: { from: 'none: the member receives for no utility kind', value: (c) => c.connector.member?.utilityKind },
    CONNECTOR_MEMBER_KEY: { from: '`<DATARUN_LOCAL_DIR>/keys/<CONNECTOR_MEMBER_ID>.key.pem`', value: (c) => c.connector.member?.privateKey },
    CONNECTOR_MEMBER_KEY_ID: { from: 'CONNECTOR_MEMBER_ID', value: (c) => c.connector.member?.keyId },
    CONNECTOR_SYSTEM_URL: {
      from: '`http://127.0.0.1:<SANDBOX_PORT>/v1/utilities/<CONNECTOR_UTILITY_KIND>`, or `…/v1/recipients/<CONNECTOR_MEMBER_ID>` without a utility kind',
      value: (c) => c.connector.member?.systemUrl,
    },
    CONNECTOR_INBOX: { from: '`<DATARUN_LOCAL_DIR>/connector/<CONNECTOR_MEMBER_ID>.sqlite`', value: (c) => c.connector.member?.inbox },
  },
});
