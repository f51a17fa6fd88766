import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { REGISTRY_ABOUT } from './about.js';
import { RegistryAppModule } from './app.module.js';

await runApp((config) => RegistryAppModule.forRoot(config), {
  ...REGISTRY_ABOUT,
  // Record batches of thousands; larger bodies are 413 PAYLOAD_TOO_LARGE.
  bodyLimit: 8 * 1024 * 1024,
  port: (config) => config.ports['registry'],
});
