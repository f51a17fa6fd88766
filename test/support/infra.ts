// Shared by the integration and e2e tests: one database and one broker per run (started by
// `npm test`), each test file isolated in a schema and topics of its own.
import { randomBytes } from 'node:crypto';
import { type DatarunConfig, loadConfig } from '@datarun/config';
import { runMigrations } from '@datarun/db';
import pg from 'pg';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** The run's configuration (from .local/infra.env via `npm test`) with overrides. */
export function testConfig(overrides: Record<string, string> = {}): DatarunConfig {
  return loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent', ...overrides });
}

export interface TestDatabase {
  readonly config: DatarunConfig;
  /** Runs SQL as the owner in the test's schema. */
  ownerQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<T>>;
  drop(): Promise<void>;
}

/** A fresh schema with every migration applied. */
export async function migratedDatabase(overrides: Record<string, string> = {}): Promise<TestDatabase> {
  const schema = uniqueName('t');
  const config = testConfig({ DATABASE_SCHEMA: schema, ...overrides });
  await runMigrations(config.database);
  const owner = new pg.Pool({ connectionString: config.database.ownerUrl, max: 2, options: `-c search_path=${schema}` });
  return {
    config,
    ownerQuery: (sql, params) => owner.query(sql, params),
    async drop() {
      await owner.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await owner.end();
    },
  };
}
