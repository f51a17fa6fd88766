import type { DatabaseConfig } from '@datarun/config';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

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
    connectTimeoutMS: 3000,
    extra: {
      max: role === 'owner' ? 2 : db.poolSize,
      options: `-c search_path=${db.schema} -c datarun.app_role=${db.appRole} -c datarun.audit_role=${db.auditRole}`,
      application_name: `datarun-${role}`,
    },
  };
}

/** One line for logs and for `npm start`: where the database is, without the password. */
export function describeDatabase(url: string): string {
  const u = new URL(url);
  return `${u.username || 'postgres'}@${u.hostname}:${u.port || '5432'}${u.pathname}`;
}
