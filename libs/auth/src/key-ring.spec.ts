import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type DatarunConfig, loadConfig } from '@datarun/config';
import { ensureDevKeys } from './dev-keys.js';
import { type KeyNeeds, loadKeys } from './key-ring.js';

const ALL: KeyNeeds = {
  required: ['subjectHashKey', 'materialLinkKey'],
  production: ['adminPublicKey', 'citizenIdpPublicKey', 'auditSigningKey'],
  optional: ['auditPublicKey'],
};
/** One line, naming the variable first and the file: `VARIABLE: expected … in <file> (…)`. */
const ONE_LINE_IN_FILE = /^DATARUN_[A-Z_]+: expected [^\n]+ in [^\n]+ \([^\n]+\)$/;

function refusal(config: DatarunConfig, needs: KeyNeeds): ConfigError {
  let error: unknown;
  try {
    loadKeys(config, needs, 'audit');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message).not.toContain('\n');
  return error as ConfigError;
}

const emptyDir = () => mkdtempSync(join(tmpdir(), 'datarun-keyring-'));
const file = (dir: string, name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadKeys', () => {
  let devLocal: string;
  beforeAll(async () => {
    devLocal = emptyDir();
    await ensureDevKeys(join(devLocal, 'keys'));
  });

  it.each(['development', 'test'])('loads the development keys %s runs on by default', (env) => {
    const keys = loadKeys(loadConfig({ NODE_ENV: env, DATARUN_LOCAL_DIR: devLocal }), ALL, 'audit');
    expect(keys.require('subjectHashKey').length).toBe(32);
    expect(keys.require('materialLinkKey').length).toBe(32);
    expect(keys.get('adminPublicKey')?.keys[0]).toMatchObject({ kid: 'admin', kty: 'EC' });
    expect(keys.get('citizenIdpPublicKey')?.keys[0]).toMatchObject({ kid: 'citizen-idp' });
    expect(keys.get('auditSigningKey')).toMatchObject({ kid: 'audit', privateKey: { asymmetricKeyType: 'ec' } });
    // The development public half, under the same kid: what `datarun audit verify` reads.
    expect([...(keys.get('auditPublicKey')?.keys() ?? [])]).toEqual(['audit']);
  });

  it('lets only the audit app load the checkpoint signing key, whatever the configuration says', () => {
    const config = loadConfig({ NODE_ENV: 'test', DATARUN_LOCAL_DIR: devLocal });
    for (const app of ['gateway', 'registry', 'relay', undefined]) {
      expect(() => loadKeys(config, { optional: ['auditSigningKey'] }, app)).toThrow(/^DATARUN_AUDIT_SIGNING_KEY is the audit app's key alone/);
    }
    expect(loadKeys(config, { optional: ['auditSigningKey'] }, 'audit').get('auditSigningKey')?.kid).toBe('audit');
  });

  it('lets only the gateway load the platform signing key; anyone may load its public half', () => {
    const config = loadConfig({ NODE_ENV: 'test', DATARUN_LOCAL_DIR: devLocal });
    for (const app of ['registry', 'relay', 'sandbox', undefined]) {
      expect(() => loadKeys(config, { optional: ['platformSigningKey'] }, app)).toThrow(/^DATARUN_PLATFORM_SIGNING_KEY is the gateway app's key alone/);
    }
    expect(loadKeys(config, { required: ['platformSigningKey'] }, 'gateway').get('platformSigningKey')?.kid).toBe('platform');
    const published = loadKeys(config, { required: ['platformPublicKey'] }, 'sandbox').get('platformPublicKey');
    expect([...(published?.keys() ?? [])]).toEqual(['platform']);
  });

  it('reads the audit public keys by kid from a JWKS, and names a key that is not EC P-256', () => {
    const dir = emptyDir();
    const jwk = (kid: string, type: 'ec' | 'rsa') => {
      const { publicKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
      return { ...publicKey.export({ format: 'jwk' }), kid };
    };
    const jwks = file(dir, 'audit.jwks.json', JSON.stringify({ keys: [jwk('audit', 'ec'), jwk('audit-2', 'ec')] }));
    const keys = loadKeys(loadConfig({ DATARUN_LOCAL_DIR: dir, DATARUN_AUDIT_PUBLIC_KEY: jwks }), { optional: ['auditPublicKey'] });
    expect([...(keys.get('auditPublicKey')?.keys() ?? [])]).toEqual(['audit', 'audit-2']);
    const mixed = file(dir, 'mixed.jwks.json', JSON.stringify({ keys: [jwk('audit', 'ec'), jwk('old-rsa', 'rsa')] }));
    expect(refusal(loadConfig({ DATARUN_LOCAL_DIR: dir, DATARUN_AUDIT_PUBLIC_KEY: mixed }), { optional: ['auditPublicKey'] }).message).toMatch(
      /^DATARUN_AUDIT_PUBLIC_KEY: .*\(key old-rsa: a rsa key, not EC P-256\)$/,
    );
  });

  it('runs outside production without the keys production needs, never without the required ones', () => {
    const config = loadConfig({ NODE_ENV: 'test', DATARUN_LOCAL_DIR: emptyDir() });
    const keys = loadKeys(config, { production: ['adminPublicKey', 'citizenIdpPublicKey', 'auditSigningKey'], optional: ['auditPublicKey'] }, 'audit');
    expect(keys.get('citizenIdpPublicKey')).toBeUndefined();
    expect(() => keys.require('citizenIdpPublicKey')).toThrow(/DATARUN_CITIZEN_IDP_PUBLIC_KEY was not loaded/);

    const error = refusal(config, { required: ['subjectHashKey'] });
    expect(error.variable).toBe('DATARUN_SUBJECT_HASH_KEY');
    expect(error.file).toBe(config.keys.subjectHashKey);
    expect(error.message).toBe(
      `DATARUN_SUBJECT_HASH_KEY: expected an HMAC key of at least 16 bytes (base64url, one line) in ${config.keys.subjectHashKey} (no such file; npm run dev-keys makes the development keys)`,
    );
  });

  it('names the variable and the file of a key that is not what it should be, in one format', () => {
    const dir = emptyDir();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const cases: Array<[Record<string, string>, KeyNeeds, string, RegExp]> = [
      [{ DATARUN_SUBJECT_HASH_KEY: file(dir, 'short.key', 'AAAA') }, { required: ['subjectHashKey'] }, 'DATARUN_SUBJECT_HASH_KEY', /\(3 bytes\)$/],
      [
        { DATARUN_MATERIAL_LINK_KEY: file(dir, 'link.key', Buffer.alloc(16).toString('base64url')) },
        { required: ['materialLinkKey'] },
        'DATARUN_MATERIAL_LINK_KEY',
        /\(16 bytes\)$/,
      ],
      [{ DATARUN_AUDIT_SIGNING_KEY: file(dir, 'rsa.pem', rsa) }, { production: ['auditSigningKey'] }, 'DATARUN_AUDIT_SIGNING_KEY', /not EC P-256\)$/],
      [{ DATARUN_AUDIT_PUBLIC_KEY: file(dir, 'junk.pem', 'not a key') }, { optional: ['auditPublicKey'] }, 'DATARUN_AUDIT_PUBLIC_KEY', /junk\.pem \(/],
      [
        { DATARUN_ADMIN_PUBLIC_KEY: file(dir, 'admin.json', '{"keys": 3}') },
        { production: ['adminPublicKey'] },
        'DATARUN_ADMIN_PUBLIC_KEY',
        /jwks: expected an object/,
      ],
      [{ DATARUN_CITIZEN_IDP_PUBLIC_KEY: dir }, { production: ['citizenIdpPublicKey'] }, 'DATARUN_CITIZEN_IDP_PUBLIC_KEY', /EISDIR/],
    ];
    for (const [env, needs, variable, detail] of cases) {
      const error = refusal(loadConfig({ DATARUN_LOCAL_DIR: dir, ...env }), needs);
      expect([variable, error.variable]).toEqual([variable, variable]);
      expect(error.message).toMatch(ONE_LINE_IN_FILE);
      expect(error.message).toMatch(detail);
    }
  });

  describe('in production', () => {
    const secrets = emptyDir();
    const hmac = file(secrets, 'subject-hash.key', Buffer.alloc(32, 7).toString('base64url'));
    const link = file(secrets, 'material-link.key', Buffer.alloc(32, 9).toString('base64url'));
    const idp = file(secrets, 'idp.pub.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const production = (env: Record<string, string> = {}) =>
      loadConfig({
        NODE_ENV: 'production',
        DATARUN_SUBJECT_HASH_KEY: hmac,
        DATARUN_MATERIAL_LINK_KEY: link,
        DATARUN_CITIZEN_IDP_PUBLIC_KEY: idp,
        DATARUN_LOCAL_DIR: devLocal,
        ...env,
      });
    const GATEWAY: KeyNeeds = { required: ['subjectHashKey', 'materialLinkKey'], production: ['citizenIdpPublicKey'] };

    it('loads the keys from the secret store', () => {
      const keys = loadKeys(production(), GATEWAY);
      expect(keys.require('subjectHashKey')).toEqual(Buffer.alloc(32, 7));
      expect(keys.get('citizenIdpPublicKey')?.keys).toHaveLength(1);
    });

    it('refuses a key left to its development default, naming the variable to set', () => {
      const error = refusal(production({ DATARUN_CITIZEN_IDP_PUBLIC_KEY: '' }), GATEWAY);
      expect(error.variable).toBe('DATARUN_CITIZEN_IDP_PUBLIC_KEY');
      expect(error.message).toBe(
        `DATARUN_CITIZEN_IDP_PUBLIC_KEY: expected a key file from your secret store in production, not one under the development folder ${devLocal}/keys (got "${devLocal}/keys/citizen-idp.pub.pem")`,
      );
    });

    it('refuses a missing key it needs, naming the variable and the file', () => {
      const error = refusal(production({ DATARUN_CITIZEN_IDP_PUBLIC_KEY: join(secrets, 'missing.pem') }), GATEWAY);
      expect(error.message).toBe(
        `DATARUN_CITIZEN_IDP_PUBLIC_KEY: expected the citizen identity provider's public key (PEM, JWK or JWKS) in ${join(secrets, 'missing.pem')} (no such file)`,
      );
    });

    it('refuses a required key under .local even when the variable names it', () => {
      expect(refusal(production({ DATARUN_SUBJECT_HASH_KEY: '.local/keys/subject-hash.key' }), GATEWAY).message).toMatch(
        /^DATARUN_SUBJECT_HASH_KEY: expected a key file from your secret store in production, not one under the development folder \.local /,
      );
    });

    it('leaves an optional key under the development folder unused', () => {
      const keys = loadKeys(production(), { optional: ['auditSigningKey', 'auditPublicKey'] }, 'audit');
      expect(keys.get('auditSigningKey')).toBeUndefined();
    });
  });
});
