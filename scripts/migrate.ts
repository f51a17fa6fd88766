// `node dist/scripts/migrate.js`, as npm start and the image run it before the apps: `datarun migrate`.
import { main } from './cli/main.js';

process.exitCode = await main(['migrate', ...process.argv.slice(2)]);
