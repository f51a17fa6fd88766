import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { GatewayModule } from './app.module.js';

await runApp((config) => GatewayModule.forRoot(config), {
  name: 'gateway',
  description: 'Consumer-facing: cases, lookups, verifications and evidence bundles.',
  port: (config) => config.ports['gateway'],
  workers: (config) => config.gatewayWorkers,
});
