import 'reflect-metadata';
import { runApp } from '@datarun/platform';
import { SANDBOX_ABOUT } from './about.js';
import { SandboxModule } from './app.module.js';

await runApp((config) => SandboxModule.forRoot(config), {
  ...SANDBOX_ABOUT,
  port: (config) => config.ports['sandbox'],
});
