import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { SandboxModule } from './app.module.js';

await runApp((config) => SandboxModule.forRoot(config), {
  name: 'sandbox',
  description: 'Simulated departments and utilities with synthetic data, for demos, tests and benchmarks.',
  port: (config) => config.ports['sandbox'],
});
