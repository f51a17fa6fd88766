import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { GATEWAY_ABOUT } from './about.js';
import { GatewayModule } from './app.module.js';

await runApp((config) => GatewayModule.forRoot(config), {
  ...GATEWAY_ABOUT,
  port: (config) => config.ports['gateway'],
  workers: (config) => config.gatewayWorkers,
});
