// `datarun migrate`: runs pending migrations as the owner role, before the apps start.
import { requireSupportedNode } from '@datarun/config';
import { describeDatabase, runMigrations } from '@datarun/db';
import { type Command, EXIT, helpText, parseOptions } from './command.js';

export const migrate: Command = {
  name: 'migrate',
  help: helpText(
    ['datarun migrate'],
    [
      'Runs the migrations the database has not had yet, as the owner (DATABASE_OWNER_URL, schema DATABASE_SCHEMA),',
      'before the apps start. Prints what ran, or that the database is up to date.',
    ].join('\n'),
  ),
  async run(args, cli) {
    requireSupportedNode('migrate');
    parseOptions(args, {});
    const { database } = cli.config();
    const ran = await runMigrations(database).catch((error: Error) => {
      throw new Error(`cannot migrate ${describeDatabase(database.ownerUrl)} (schema ${database.schema}): ${error.message}`);
    });
    cli.out(ran.length === 0 ? 'migrate: database is up to date' : `migrate: ran ${ran.join(', ')}`);
    return EXIT.ok;
  },
};
