import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { CONNECTOR_ABOUT } from './about.js';
import { ConnectorModule } from './app.module.js';

await runApp((config) => ConnectorModule.forRoot(config, { exitOnCrash: true }), {
  ...CONNECTOR_ABOUT,
  port: (config) => config.ports.connector,
});
