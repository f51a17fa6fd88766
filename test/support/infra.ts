// Shared by the integration and e2e tests: one database and one broker per run (started by
// `npm test`), each test file isolated in a schema and topics of its own.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatarunConfig, loadConfig } from '@datarun/config';
import { runMigrations } from '@datarun/db';
import pg from 'pg';

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

const secretKeyFiles = new Map<string, string>();
/**
 * A 32-byte secret of this test process in a file of its own, made once per name: the subject
 * pseudonym key (the audit module refuses to run without one) and the material-link key (the relay
 * signs, the gateway checks).
 */
function processSecretFile(name: string): string {
  let file = secretKeyFiles.get(name);
  if (!file) {
    file = join(mkdtempSync(join(tmpdir(), 'datarun-keys-')), name);
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
    secretKeyFiles.set(name, file);
  }
  return file;
}

const keyPairs = new Map<string, { readonly signing: string; readonly public: string }>();
/** An EC P-256 key pair of this test process, written once per name: `<name>.key.pem` and `<name>.pub.pem`. */
function keyPairFiles(name: string): { readonly signing: string; readonly public: string } {
  let files = keyPairs.get(name);
  if (!files) {
    const dir = mkdtempSync(join(tmpdir(), `datarun-${name}-`));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    files = { signing: join(dir, `${name}.key.pem`), public: join(dir, `${name}.pub.pem`) };
    writeFileSync(files.signing, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(files.public, publicKey.export({ type: 'spki', format: 'pem' }));
    keyPairs.set(name, files);
  }
  return files;
}

/**
 * The platform key pair of this test process (EC P-256): the gateway signs federated calls with the
 * private half, the sandbox's departments verify them with the public half.
 */
export function platformKeyFiles(): { readonly signing: string; readonly public: string } {
  return keyPairFiles('platform');
}

/** The delivery key pair of this test process: the relay signs webhooks with it, the gateway publishes its public half. */
export function deliveryKeyFiles(): { readonly signing: string; readonly public: string } {
  return keyPairFiles('delivery');
}

let localDir: string | undefined;

/**
 * The run's configuration (from .local/infra.env via `npm test`) with overrides. Its local folder
 * (where unset key paths, checkpoint files and archives default to) is an empty one of this test
 * process, never the repository's .local: a machine where `npm start` made development keys must
 * not change what a test sees.
 */
export function testConfig(overrides: Record<string, string> = {}): DatarunConfig {
  localDir ??= mkdtempSync(join(tmpdir(), 'datarun-local-'));
  return loadConfig({
    ...process.env,
    DATARUN_LOCAL_DIR: localDir,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    DATARUN_SUBJECT_HASH_KEY: processSecretFile('subject-hash.key'),
    DATARUN_MATERIAL_LINK_KEY: processSecretFile('material-link.key'),
    DATARUN_PLATFORM_SIGNING_KEY: platformKeyFiles().signing,
    DATARUN_PLATFORM_PUBLIC_KEY: platformKeyFiles().public,
    DATARUN_DELIVERY_SIGNING_KEY: deliveryKeyFiles().signing,
    DATARUN_DELIVERY_PUBLIC_KEY: deliveryKeyFiles().public,
    ...overrides,
  });
}

export interface TestDatabase {
  readonly config: DatarunConfig;
  /** Runs SQL as the owner in the test's schema. */
  ownerQuery<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<T>>;
  drop(): Promise<void>;
}

/** A fresh schema with every migration applied. */
export async function migratedDatabase(overrides: Record<string, string> = {}): Promise<TestDatabase> {
  const schema = uniqueName('t');
  const config = testConfig({ DATABASE_SCHEMA: schema, ...overrides });
  await runMigrations(config.database);
  const owner = new pg.Pool({ connectionString: config.database.ownerUrl, max: 2, options: `-c search_path=${schema}` });
  return {
    config,
    ownerQuery: (sql, params) => owner.query(sql, params),
    async drop() {
      await owner.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await owner.end();
    },
  };
}
