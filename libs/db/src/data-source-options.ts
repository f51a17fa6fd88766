import type { DatabaseConfig } from '@datarun/config';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';
import { SilenceSafeClient } from './silence-safe-client.js';

/** `app`: every app's role; `audit`: the audit app's (the app role's rights and checkpoint inserts); `owner`: migrations. */
export type DatabaseRole = 'app' | 'audit' | 'owner';

const URL_OF: Record<DatabaseRole, (db: DatabaseConfig) => string> = { app: (db) => db.url, audit: (db) => db.auditUrl, owner: (db) => db.ownerUrl };

/**
 * Connection options for either role. The schema is set through the session's search_path so
 * that migrations name tables unqualified and tests can isolate themselves in a schema of their
 * own; `datarun.app_role` and `datarun.audit_role` tell the migrations which roles to grant rights to.
 */
export function dataSourceOptions(db: DatabaseConfig, role: DatabaseRole, entities: MixedList<Function | string | EntitySchema> = []): DataSourceOptions {
  return {
    type: 'postgres',
    url: URL_OF[role](db),
    schema: db.schema,
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    connectTimeoutMS: db.timeouts.connectMs,
    extra: {
      // A connection whose query went unanswered is dropped, not reused (SilenceSafeClient).
      Client: SilenceSafeClient,
      max: role === 'owner' ? 2 : db.poolSize,
      ...connectionLimits(db, role),
      options: `-c search_path=${db.schema} -c datarun.app_role=${db.appRole} -c datarun.audit_role=${db.auditRole}${sessionLimits(db, role)}`,
      application_name: `datarun-${role}`,
    },
  };
}

/**
 * The client side of a connection's limits, for a pool or a `pg.Client` of one's own (the relay's
 * lease connection): TCP keepalive, so a socket whose peer vanished (a half-open connection after
 * a network fault or a failover) errors in seconds instead of after the kernel's two hours, and a
 * query timeout a little beyond the server's statement timeout, for a server that no longer answers
 * at all. The owner's long work (migrations, archiving) has no query timeout.
 */
export function connectionLimits(
  db: DatabaseConfig,
  role: DatabaseRole,
): { keepAlive: true; keepAliveInitialDelayMillis: number; connectionTimeoutMillis: number; query_timeout?: number } {
  return {
    keepAlive: true,
    keepAliveInitialDelayMillis: db.timeouts.keepAliveDelayMs,
    connectionTimeoutMillis: db.timeouts.connectMs,
    ...(role === 'owner' ? {} : { query_timeout: db.timeouts.statementMs + QUERY_TIMEOUT_MARGIN_MS }),
  };
}

/** The server's own answer (statement_timeout's error names the cause) comes first; the client's is for silence. */
const QUERY_TIMEOUT_MARGIN_MS = 5000;

/**
 * The server side, as `-c` settings of the session (` -c name=value …`, to append to `options`).
 * Every role: TCP keepalive from the server's end too, so that PostgreSQL ends the session of a
 * client that vanished (and releases its locks, the relay's advisory lock among them) in seconds
 * instead of the kernel's two hours. Not the owner: statement, lock and idle-in-transaction
 * timeouts. A migration may wait for the migration lock of another process (parallel test
 * workers, replicas starting together) and rewrite a large table, and archiving copies a month of
 * the audit log; both run by hand or as a deployment step, where a person watches them.
 */
export function sessionLimits(db: DatabaseConfig, role: DatabaseRole): string {
  const t = db.timeouts;
  const probeSeconds = Math.max(1, Math.ceil(t.keepAliveDelayMs / 1000));
  const keepalive = ` -c tcp_keepalives_idle=${probeSeconds} -c tcp_keepalives_interval=${probeSeconds} -c tcp_keepalives_count=3`;
  if (role === 'owner') return keepalive;
  return `${keepalive} -c statement_timeout=${t.statementMs} -c lock_timeout=${t.lockMs} -c idle_in_transaction_session_timeout=${t.idleInTransactionMs}`;
}

/** One line for logs and for `npm start`: where the database is, without the password. */
export function describeDatabase(url: string): string {
  const u = new URL(url);
  return `${u.username || 'postgres'}@${u.hostname}:${u.port || '5432'}${u.pathname}`;
}
