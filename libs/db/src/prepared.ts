import type pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The `pg` pool under TypeORM's DataSource. The lookup path runs its few statements as named
 * prepared statements on it (TypeORM's query() cannot name them): each connection parses and
 * plans them once instead of on every request, which the benchmark showed is a large part of
 * PostgreSQL's work per lookup.
 */
export function poolOf(dataSource: DataSource): pg.Pool {
  const pool = (dataSource.driver as unknown as { master?: pg.Pool }).master;
  if (!pool) throw new Error('the database is not connected');
  return pool;
}

/** A named prepared statement; `name` must always go with the same `text`. */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

export async function runPrepared<R extends pg.QueryResultRow>(client: pg.Pool | pg.PoolClient, statement: PreparedStatement, values: unknown[]): Promise<R[]> {
  const result = await client.query<R>({ name: statement.name, text: statement.text, values });
  return result.rows;
}
