import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { RELAY_ABOUT } from './about.js';
import { RelayModule } from './app.module.js';

await runApp((config) => RelayModule.forRoot(config), {
  ...RELAY_ABOUT,
  port: (config) => config.ports['relay'],
});
