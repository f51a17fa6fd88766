import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { AUDIT_ABOUT } from './about.js';
import { AuditAppModule } from './app.module.js';

await runApp((config) => AuditAppModule.forRoot(config), {
  ...AUDIT_ABOUT,
  port: (config) => config.ports['audit'],
});
