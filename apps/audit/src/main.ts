import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { AuditAppModule } from './app.module.js';

await runApp((config) => AuditAppModule.forRoot(config), {
  name: 'audit',
  description: 'Auditor- and citizen-facing: audit search, verification, checkpoints and reports.',
  port: (config) => config.ports['audit'],
});
