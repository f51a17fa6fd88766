import { z } from 'zod';
import { ConfigError } from '../config-error.js';
import { defineSection } from '../section.js';
import { identifier, postgresUrl } from '../values.js';

export interface DatabaseConfig {
  /** The applications' role: it may append audit events and read them and the checkpoints, never update or delete. */
  readonly url: string;
  /** The owner's role, used only to run migrations. */
  readonly ownerUrl: string;
  /** The role name the migrations grant rights to (the user of `url`). */
  readonly appRole: string;
  /**
   * The audit app's connection: the application role's rights (it is a member of that role) and,
   * alone, INSERT on `audit_checkpoint`, so that no other app's credentials can plant a checkpoint.
   */
  readonly auditUrl: string;
  /** The user of `auditUrl`, which the migrations create and grant that one right to. */
  readonly auditRole: string;
  readonly schema: string;
  readonly poolSize: number;
  /**
   * Limits on every application connection (docs/operations.md, "Database timeouts"): a dead
   * socket, a stuck lock or a forgotten transaction fails in seconds instead of holding a
   * connection (and whatever it locked) for hours. The owner's connections (migrations,
   * archiving) take no statement or lock limit: their work is long by nature.
   */
  readonly timeouts: DatabaseTimeouts;
}

export interface DatabaseTimeouts {
  /** Server side: a statement running longer is cancelled (`statement_timeout`). */
  readonly statementMs: number;
  /** Server side: a wait for a lock longer than this fails the statement (`lock_timeout`). */
  readonly lockMs: number;
  /** Server side: a session idle inside a transaction this long is ended (`idle_in_transaction_session_timeout`). */
  readonly idleInTransactionMs: number;
  /** Client side: connecting, and TCP keepalive's first probe after this much silence. */
  readonly connectMs: number;
  readonly keepAliveDelayMs: number;
}

/** The application role used when only the owner URL is given (local development and tests). */
export const DEFAULT_APP_ROLE = 'datarun_app';
/** The audit app's role used when DATABASE_AUDIT_URL is not given (docs/security.md). */
export const DEFAULT_AUDIT_ROLE = 'datarun_audit';
const DEFAULT_OWNER_URL = 'postgres://postgres@127.0.0.1:5432/datarun';

const variables = z.object({
  DATABASE_OWNER_URL: postgresUrl
    .optional()
    .describe(
      'PostgreSQL URL of the owner role, used only to run migrations (`npm run migrate`) and to archive audit months. `npm start` and `npm test` take it from `.local/infra.env`. Production: a role that owns the schema, used by the migration step only.',
    ),
  DATABASE_URL: postgresUrl
    .optional()
    .describe(
      'PostgreSQL URL the apps connect with (the audit app: `DATABASE_AUDIT_URL`). Its role may append audit events and read them, read signed checkpoints but not insert them, and never update or delete either: the migrations create the role when it is missing and grant it exactly that. Production: set it and `DATABASE_OWNER_URL`, two different roles (a role that owns the tables could grant itself back what the migrations took away).',
    ),
  DATABASE_AUDIT_URL: postgresUrl
    .optional()
    .describe(
      'PostgreSQL URL the audit app connects with. Its role is a member of the application role and is the only one that may insert signed checkpoints (`audit_checkpoint`); the migrations create it when it is missing and grant it exactly that. Production: set it, a third role with its own password, known to the audit app only.',
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
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(30_000)
    .describe(
      "Milliseconds an application connection's statement may run before PostgreSQL cancels it (`statement_timeout`); the client gives up on an unanswered query (a dead socket) a few seconds later. Migrations and audit archiving, as the owner, have no limit.",
    ),
  DATABASE_LOCK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(3_600_000)
    .default(10_000)
    .describe("Milliseconds an application connection's statement may wait for a lock before it fails (`lock_timeout`)."),
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(3_600_000)
    .default(60_000)
    .describe(
      'Milliseconds an application connection may sit idle inside an open transaction before PostgreSQL ends its session (`idle_in_transaction_session_timeout`), releasing what it locked.',
    ),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(5_000)
    .describe(
      'Milliseconds to open a connection to PostgreSQL before the attempt fails; also the silence after which TCP keepalive starts probing an open connection, so a dead socket is noticed in seconds.',
    ),
});

/**
 * Without DATABASE_URL, the applications connect as `datarun_app` to the owner's database: the
 * migrations create that role, so a fresh machine needs only the owner's URL.
 */
export const DATABASE_SECTION = defineSection({
  name: 'database',
  owner: '@datarun/db',
  variables,
  read(v): { readonly database: DatabaseConfig } {
    const ownerUrl = v.DATABASE_OWNER_URL ?? v.DATABASE_URL ?? DEFAULT_OWNER_URL;
    const url = v.DATABASE_URL ?? withUser(ownerUrl, DEFAULT_APP_ROLE);
    const appRole = roleOf('DATABASE_URL', url);
    // One role for everything (DATABASE_URL alone) cannot be split: the audit app uses it too.
    const auditUrl = v.DATABASE_AUDIT_URL ?? (url === ownerUrl ? url : withUser(url, DEFAULT_AUDIT_ROLE));
    const auditRole = roleOf('DATABASE_AUDIT_URL', auditUrl);
    const timeouts: DatabaseTimeouts = {
      statementMs: v.DATABASE_STATEMENT_TIMEOUT_MS,
      lockMs: v.DATABASE_LOCK_TIMEOUT_MS,
      idleInTransactionMs: v.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      connectMs: v.DATABASE_CONNECT_TIMEOUT_MS,
      keepAliveDelayMs: v.DATABASE_CONNECT_TIMEOUT_MS,
    };
    return { database: { url, ownerUrl, appRole, auditUrl, auditRole, schema: v.DATABASE_SCHEMA, poolSize: v.DATABASE_POOL_SIZE, timeouts } };
  },
  derived: {
    DATABASE_OWNER_URL: { from: 'DATABASE_URL when set', value: (c) => c.database.ownerUrl },
    DATABASE_URL: { from: 'DATABASE_OWNER_URL with the user `datarun_app` and no password', value: (c) => c.database.url },
    DATABASE_AUDIT_URL: {
      from: 'DATABASE_URL with the user `datarun_audit` and no password (DATABASE_URL itself when it is also the owner)',
      value: (c) => c.database.auditUrl,
    },
  },
});

function roleOf(variable: string, url: string): string {
  const role = decodeURIComponent(new URL(url).username);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new ConfigError(variable, 'a user name that is a lower-case SQL identifier', role);
  return role;
}

function withUser(url: string, user: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = '';
  return u.toString();
}
