// NODE_ENV=production refuses the development defaults at boot, one line naming the variable to
// set (libs/config/src/production.ts, @datarun/auth's loadKeys): each app stops on what it uses,
// and boots once production set it; development and test boot on the defaults.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type DatarunConfig } from '@datarun/config';
import type { DynamicModule } from '@nestjs/common';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { ConnectorModule } from '../../apps/connector/src/app.module.js';
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase, testConfig } from '../support/infra.js';

const secrets = mkdtempSync(join(tmpdir(), 'datarun-secrets-'));
const pem = (name: string, kind: 'public' | 'private') => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const text = kind === 'public' ? pair.publicKey.export({ type: 'spki', format: 'pem' }) : pair.privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(join(secrets, name), text);
  return join(secrets, name);
};

/** What production sets (testConfig already names the two secrets outside the local folder). */
const PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production',
  RATE_LIMIT_PER_SECOND: '200',
  RATE_LIMIT_BURST: '400',
  DATARUN_CITIZEN_IDP_PUBLIC_KEY: pem('idp.pub.pem', 'public'),
  DATARUN_ADMIN_PUBLIC_KEY: pem('admin.pub.pem', 'public'),
  DATARUN_AUDIT_SIGNING_KEY: pem('audit.key.pem', 'private'),
  CONNECTOR_MEMBER_ID: 'zj.city.water',
  CONNECTOR_UTILITY_KIND: 'water',
  CONNECTOR_SYSTEM_URL: 'http://127.0.0.1:1/water',
  CONNECTOR_MEMBER_KEY: pem('water.key.pem', 'private'),
  CONNECTOR_INBOX: join(secrets, 'water-inbox.sqlite'),
};

/** A connector runs for one member in every environment: development and test name a demo one, the rest derived. */
const A_CONNECTOR = { CONNECTOR_MEMBER_ID: 'zj.demo.water', CONNECTOR_UTILITY_KIND: 'water', CONNECTOR_INBOX: join(secrets, 'demo-inbox.sqlite') };

const APPS: Array<[string, (c: DatarunConfig) => DynamicModule, Array<[string, string]>, Record<string, string>?]> = [
  // [app, its module, [variable left unset, what the refusal names] in the order the app meets them, what it is always given]
  [
    'gateway',
    (c) => GatewayModule.forRoot(c),
    [
      ['RATE_LIMIT_PER_SECOND', 'RATE_LIMIT_PER_SECOND'],
      ['RATE_LIMIT_BURST', 'RATE_LIMIT_BURST'],
      ['DATARUN_CITIZEN_IDP_PUBLIC_KEY', 'DATARUN_CITIZEN_IDP_PUBLIC_KEY'],
      ['DATARUN_SUBJECT_HASH_KEY', 'DATARUN_SUBJECT_HASH_KEY'],
      ['DATARUN_MATERIAL_LINK_KEY', 'DATARUN_MATERIAL_LINK_KEY'],
      // Unset, the key is the development pair under the local folder, which production refuses.
      ['DATARUN_PLATFORM_SIGNING_KEY', 'DATARUN_PLATFORM_SIGNING_KEY'],
    ],
  ],
  ['registry', (c) => RegistryAppModule.forRoot(c), [['DATARUN_ADMIN_PUBLIC_KEY', 'DATARUN_ADMIN_PUBLIC_KEY']]],
  ['audit', (c) => AuditAppModule.forRoot(c), [['DATARUN_AUDIT_SIGNING_KEY', 'DATARUN_AUDIT_SIGNING_KEY']]],
  ['relay', (c) => RelayModule.forRoot(c), [['DATARUN_MATERIAL_LINK_KEY', 'DATARUN_MATERIAL_LINK_KEY']]],
  [
    'connector',
    (c) => ConnectorModule.forRoot(c),
    [
      // It has no default member in any environment.
      ['CONNECTOR_MEMBER_ID', 'CONNECTOR_MEMBER_ID'],
      ['CONNECTOR_SYSTEM_URL', 'CONNECTOR_SYSTEM_URL'],
      // Unset, the key is the member's file under the local folder, which production refuses.
      ['CONNECTOR_MEMBER_KEY', 'CONNECTOR_MEMBER_KEY'],
    ],
    A_CONNECTOR,
  ],
];

describe.each(APPS)('the %s app', (name, build, refusals, always = {}) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await migratedDatabase();
  });
  afterAll(() => db?.drop());

  const configOf = (overrides: Record<string, string>) => testConfig({ DATABASE_SCHEMA: db.config.database.schema, ...always, ...overrides });

  it.each(refusals)('refuses to boot in production with %s unset, in one line naming it', async (unset, variable) => {
    // The development default of a key is its file under the local folder; of the others, the default value.
    const config = configOf({ ...PRODUCTION, [unset]: '' });
    const error = await (async () => bootApp(build(config), name))().then(
      async (t) => {
        await t.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: expected [^\\n]+$`));
  });

  it.each([
    ['production, once it set what it uses', PRODUCTION],
    ['development, on the defaults', { NODE_ENV: 'development' }],
    ['test, on the defaults', { NODE_ENV: 'test' }],
  ])('boots in %s', async (_, overrides) => {
    const t = await bootApp(build(configOf(overrides)), name);
    try {
      await t.http.get('/health/live').expect(200, { status: 'ok' });
    } finally {
      await t.close();
    }
  });
});
