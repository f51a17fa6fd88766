import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { UTILITY_BRIDGE_ABOUT } from './about.js';
import { UtilityBridgeModule } from './app.module.js';

await runApp((config) => UtilityBridgeModule.forRoot(config, { exitOnCrash: true }), {
  ...UTILITY_BRIDGE_ABOUT,
  port: (config) => config.ports['utility-bridge'],
});
