import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { REGISTRY_ABOUT } from './about.js';
import { RegistryAppModule } from './app.module.js';

await runApp((config) => RegistryAppModule.forRoot(config), {
  ...REGISTRY_ABOUT,
  port: (config) => config.ports['registry'],
});
