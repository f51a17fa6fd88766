import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { RelayModule } from './app.module.js';

await runApp((config) => RelayModule.forRoot(config), {
  name: 'relay',
  description: 'Outbox to Kafka; Kafka to datarun (transfer status, record ingest).',
  port: (config) => config.ports['relay'],
});
