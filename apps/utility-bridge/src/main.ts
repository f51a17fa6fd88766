import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { UtilityBridgeModule } from './app.module.js';

await runApp((config) => UtilityBridgeModule.forRoot(config, { exitOnCrash: true }), {
  name: 'utility-bridge',
  description: 'Reference connector a utility runs: its transfer topic, its own system, the status topic.',
  port: (config) => config.ports['utility-bridge'],
});
