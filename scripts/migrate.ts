// `npm run migrate`: runs pending migrations as the owner role. One clear line on failure.
import { requireSupportedNode, ConfigError, loadConfig } from '@datarun/config';
import { describeDatabase, runMigrations } from '@datarun/db';

requireSupportedNode('migrate');

try {
  const config = loadConfig(process.env);
  const ran = await runMigrations(config.database).catch((error: Error) => {
    throw new Error(`cannot migrate ${describeDatabase(config.database.ownerUrl)} (schema ${config.database.schema}): ${error.message}`);
  });
  console.log(ran.length === 0 ? 'migrate: database is up to date' : `migrate: ran ${ran.join(', ')}`);
} catch (error) {
  console.error(error instanceof ConfigError ? `migrate: configuration error: ${error.message}` : `migrate: ${(error as Error).message}`);
  process.exit(1);
}
