import type { DatabaseConfig } from '@datarun/config';
import type { DataSourceOptions, EntitySchema, MixedList } from 'typeorm';
import { MIGRATIONS } from './migrations/index.js';

export type DatabaseRole = 'app' | 'owner';

/**
 * Connection options for either role. The schema is set through the session's search_path so
 * that migrations name tables unqualified and tests can isolate themselves in a schema of their
 * own; `datarun.app_role` tells the migrations which role to grant rights to.
 */
export function dataSourceOptions(db: DatabaseConfig, role: DatabaseRole, entities: MixedList<Function | string | EntitySchema> = []): DataSourceOptions {
  return {
    type: 'postgres',
    url: role === 'owner' ? db.ownerUrl : db.url,
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
      options: `-c search_path=${db.schema} -c datarun.app_role=${db.appRole}`,
      application_name: `datarun-${role}`,
    },
  };
}

/** One line for logs and for `npm start`: where the database is, without the password. */
export function describeDatabase(url: string): string {
  const u = new URL(url);
  return `${u.username || 'postgres'}@${u.hostname}:${u.port || '5432'}${u.pathname}`;
}
