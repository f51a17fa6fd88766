export { dataSourceOptions, describeDatabase } from './data-source-options.js';
export type { DatabaseRole } from './data-source-options.js';
export { runMigrations } from './migrate.js';
export { DbModule } from './db.module.js';
export { MIGRATIONS } from './migrations/index.js';
export { DatabaseConnection } from './database-connection.js';
export { poolOf, runPrepared } from './prepared.js';
export type { PreparedStatement } from './prepared.js';
