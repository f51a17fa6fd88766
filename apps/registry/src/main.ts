import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { RegistryAppModule } from './app.module.js';

await runApp((config) => RegistryAppModule.forRoot(config), {
  name: 'registry',
  description: 'Department- and admin-facing: members, keys, sources, schema versions, grants, matters and record ingest.',
  // Record batches of thousands; larger bodies are 413 PAYLOAD_TOO_LARGE.
  bodyLimit: 8 * 1024 * 1024,
  port: (config) => config.ports['registry'],
});
