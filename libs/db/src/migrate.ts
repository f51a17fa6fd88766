import type { DatabaseConfig } from '@datarun/config';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options.js';

/** Migrations of different schemas share cluster-wide objects (the application role). */
const MIGRATION_LOCK = 0x64617461; // 'data'

/**
 * Creates the schema if needed and runs pending migrations as the owner. Serialised across
 * processes with an advisory lock so parallel test workers and replicas can call it safely.
 * Returns the names of the migrations that ran.
 */
export async function runMigrations(db: DatabaseConfig): Promise<string[]> {
  const ds = new DataSource(dataSourceOptions(db, 'owner'));
  await ds.initialize();
  try {
    await ds.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await ds.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
      const ran = await ds.runMigrations({ transaction: 'each' });
      return ran.map((m) => m.name);
    } finally {
      await ds.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await ds.destroy();
  }
}
