// The OpenAPI documents of every app, as committed in docs/openapi/<app>.json: built without a
// database or a broker (Nest's preview mode), written with a stable key order and formatted the
// way the tree's Prettier check wants. `npm run generate` writes them; the contract test compares
// what each running app serves with the committed file.
import { mkdir, writeFile } from 'node:fs/promises';
import { connectorMember, type DatarunConfig, loadConfig } from '@datarun/config';
import { type AppAbout, previewOpenApiDocument } from '@datarun/platform';
import type { DynamicModule } from '@nestjs/common';
import { AUDIT_ABOUT } from '../apps/audit/src/about.js';
import { AuditAppModule } from '../apps/audit/src/app.module.js';
import { CONNECTOR_ABOUT } from '../apps/connector/src/about.js';
import { ConnectorModule } from '../apps/connector/src/app.module.js';
import { GATEWAY_ABOUT } from '../apps/gateway/src/about.js';
import { GatewayModule } from '../apps/gateway/src/app.module.js';
import { REGISTRY_ABOUT } from '../apps/registry/src/about.js';
import { RegistryAppModule } from '../apps/registry/src/app.module.js';
import { RELAY_ABOUT } from '../apps/relay/src/about.js';
import { RelayModule } from '../apps/relay/src/app.module.js';
import { SANDBOX_ABOUT } from '../apps/sandbox/src/about.js';
import { SandboxModule } from '../apps/sandbox/src/app.module.js';
import { OPENAPI_DIR, openApiFile, openApiJson } from './openapi-files.js';

export { OPENAPI_DIR } from './openapi-files.js';

export interface DocumentedApp {
  readonly about: AppAbout;
  readonly module: (config: DatarunConfig) => DynamicModule;
}

/** Every app with an HTTP API, in the order of docs/api.md. */
export const DOCUMENTED_APPS: readonly DocumentedApp[] = [
  { about: REGISTRY_ABOUT, module: (config) => RegistryAppModule.forRoot(config) },
  { about: GATEWAY_ABOUT, module: (config) => GatewayModule.forRoot(config) },
  { about: AUDIT_ABOUT, module: (config) => AuditAppModule.forRoot(config) },
  { about: RELAY_ABOUT, module: (config) => RelayModule.forRoot(config) },
  // Every connector serves the same document; the demo water company's stands for them (its inbox in memory, so no file is left behind).
  {
    about: CONNECTOR_ABOUT,
    module: (config) =>
      ConnectorModule.forRoot({
        ...config,
        connector: { ...config.connector, member: connectorMember(config, { id: 'zj.demo.water', utilityKind: 'water', inbox: ':memory:' }) },
      }),
  },
  { about: SANDBOX_ABOUT, module: (config) => SandboxModule.forRoot(config) },
];

/** Writes docs/openapi/<app>.json (or into `outDir`) for every app; returns the files written. */
export async function exportOpenApi(outDir: string = OPENAPI_DIR): Promise<string[]> {
  // Local defaults: the document must not depend on the environment it was exported in.
  const config = loadConfig({});
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const app of DOCUMENTED_APPS) {
    const path = openApiFile(outDir, app.about.name);
    const document = await previewOpenApiDocument(app.module(config), app.about);
    await writeFile(path, await openApiJson(document, path));
    written.push(path);
  }
  return written;
}
