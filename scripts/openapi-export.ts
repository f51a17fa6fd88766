// Step of `npm run generate` (scripts/generate.sh), or alone with an output folder: writes the OpenAPI document of every app to docs/openapi/<app>.json
// (commit them; `npm test` fails when an app serves something else).
import { requireSupportedNode } from '@datarun/config';
import { exportOpenApi, OPENAPI_DIR } from './openapi.js';

requireSupportedNode('openapi');

try {
  const written = await exportOpenApi(process.argv[2] ?? OPENAPI_DIR);
  console.log(`openapi: wrote ${written.join(', ')}`);
} catch (error) {
  console.error(`openapi: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
}
