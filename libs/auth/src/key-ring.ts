import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ConfigError,
  type DatarunConfig,
  isDevelopmentKey,
  KEY_VARIABLES,
  type KeyName,
  refuseDevelopmentKey,
  refuseDevelopmentKeyFile,
} from '@datarun/config';
import { type Jwks, jwksToKeyObjects, publicKeyFileToJwks } from './jwks.js';
import { signingAlgorithmOf } from './jws-algorithm.js';
import { CITIZEN_IDP_ISSUER } from './token-verifier.js';

/** A private key a platform app signs with, and the key id what it signs carries. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/** The audit app's checkpoint signing key. */
export type AuditSigningKey = SigningKey;

/** A platform EC P-256 signing key: the gateway's for its federated calls' tokens, or the relay's delivery key for webhooks. */
export type PlatformSigningKey = SigningKey;

/** What each platform key is once read and checked. */
export interface PlatformKeys {
  /** `datarun.admin`'s JWKS (a PEM gets kid `admin`). */
  readonly adminPublicKey: Jwks;
  /** The citizen identity provider's JWKS (a PEM gets kid `citizen-idp`). */
  readonly citizenIdpPublicKey: Jwks;
  /** kid DATARUN_AUDIT_KEY_ID. */
  readonly auditSigningKey: AuditSigningKey;
  /** The audit keys' public halves by kid (a PEM gets DATARUN_AUDIT_KEY_ID). */
  readonly auditPublicKey: ReadonlyMap<string, KeyObject>;
  readonly subjectHashKey: Buffer;
  readonly materialLinkKey: Buffer;
  /** kid DATARUN_PLATFORM_KEY_ID. */
  readonly platformSigningKey: PlatformSigningKey;
  /** The platform keys' public halves by kid (a PEM gets DATARUN_PLATFORM_KEY_ID). */
  readonly platformPublicKey: ReadonlyMap<string, KeyObject>;
  /** kid DATARUN_DELIVERY_KEY_ID: the relay's webhook signing key. */
  readonly deliverySigningKey: PlatformSigningKey;
  /** The delivery keys' public halves by kid (a PEM gets DATARUN_DELIVERY_KEY_ID). */
  readonly deliveryPublicKey: ReadonlyMap<string, KeyObject>;
}

/**
 * The keys an app uses, by how much it needs them:
 * - `required`: the app cannot run without it, in any environment (the subject pseudonym key of
 *   an app that audits, the material link key of the relay and the gateway);
 * - `production`: production cannot run without it; development and test run on without it
 *   (citizen tokens refused, no administrator, no checkpoint signing) when the file is missing;
 * - `optional`: used when its file is there (the audit public key, otherwise derived).
 * Production refuses a required or production key under a development folder
 * (refuseDevelopmentKey: `DATARUN_LOCAL_DIR/keys`, `.local`), and leaves an optional one there unused.
 */
export interface KeyNeeds {
  readonly required?: readonly KeyName[];
  readonly production?: readonly KeyName[];
  readonly optional?: readonly KeyName[];
}

interface KeyFormat<K extends KeyName> {
  /** What the file must hold, as the error says it. */
  readonly expected: string;
  readonly read: (text: string, config: DatarunConfig) => PlatformKeys[K];
}

/**
 * Keys only one app may load: the checkpoint signing key is the audit app's, so that a gateway,
 * registry or relay that is broken into cannot sign a checkpoint of a rewritten chain (asking for
 * it elsewhere is a mistake in that app's KeyNeeds, and stops it at boot).
 */
const KEY_OWNERS: { readonly [K in KeyName]?: string } = { auditSigningKey: 'audit', platformSigningKey: 'gateway', deliverySigningKey: 'relay' };

const FORMATS: { readonly [K in KeyName]: KeyFormat<K> } = {
  adminPublicKey: { expected: "the administrators' public key (PEM, JWK or JWKS)", read: (text) => publicKeyFileToJwks(text, 'admin') },
  citizenIdpPublicKey: {
    expected: "the citizen identity provider's public key (PEM, JWK or JWKS)",
    read: (text) => publicKeyFileToJwks(text, CITIZEN_IDP_ISSUER),
  },
  auditSigningKey: {
    expected: 'an EC P-256 private key (PEM)',
    read: (text, config) => ({ kid: config.audit.keyId, privateKey: ecP256(createPrivateKey(text)) }),
  },
  auditPublicKey: { expected: 'EC P-256 public keys (a PEM, JWK or JWKS)', read: (text, config) => ecP256Keys(text, config.audit.keyId) },
  subjectHashKey: { expected: 'an HMAC key of at least 16 bytes (base64url, one line)', read: (text) => secret(text, 16) },
  materialLinkKey: { expected: 'an HMAC key of at least 32 bytes (base64url, one line)', read: (text) => secret(text, 32) },
  platformSigningKey: {
    expected: 'an EC P-256 private key (PEM)',
    read: (text, config) => ({ kid: config.egress.platformKeyId, privateKey: ecP256(createPrivateKey(text)) }),
  },
  platformPublicKey: { expected: 'EC P-256 public keys (a PEM, JWK or JWKS)', read: (text, config) => ecP256Keys(text, config.egress.platformKeyId) },
  deliverySigningKey: {
    expected: 'an EC P-256 private key (PEM)',
    read: (text, config) => ({ kid: config.webhooks.deliveryKeyId, privateKey: ecP256(createPrivateKey(text)) }),
  },
  deliveryPublicKey: { expected: 'EC P-256 public keys (a PEM, JWK or JWKS)', read: (text, config) => ecP256Keys(text, config.webhooks.deliveryKeyId) },
};

/** The keys an app loaded at boot. Libs take theirs from here, never from the files. */
export class KeyRing {
  constructor(private readonly keys: Partial<PlatformKeys>) {}

  /** The key, or undefined when the app does not use it or may run without it here. */
  get<K extends KeyName>(name: K): PlatformKeys[K] | undefined {
    return this.keys[name] as PlatformKeys[K] | undefined;
  }

  /** A key the app loaded as required; asking for another is a mistake in the app's KeyNeeds. */
  require<K extends KeyName>(name: K): PlatformKeys[K] {
    const key = this.get(name);
    if (key === undefined) throw new Error(`${KEY_VARIABLES[name]} was not loaded: list ${name} in the app's required keys (PlatformModule.forRoot's keys)`);
    return key;
  }
}

/**
 * Reads and checks every key in `needs`, once, at boot, for `app` (which may load a key only one
 * app may have, KEY_OWNERS, only when it is that app). Anything wrong stops the app with a
 * ConfigError in one format — `VARIABLE: expected <what> in <file> (<what is wrong>)` — or, in
 * production, `VARIABLE: expected a key file from your secret store …` for a development key.
 */
export function loadKeys(config: DatarunConfig, needs: KeyNeeds, app?: string): KeyRing {
  const production = config.env === 'production';
  for (const name of [...(needs.required ?? []), ...(needs.production ?? []), ...(needs.optional ?? [])]) {
    const owner = KEY_OWNERS[name];
    if (owner !== undefined && owner !== app)
      throw new Error(`${KEY_VARIABLES[name]} is the ${owner} app's key alone; ${app ?? 'this process'} may not load it`);
  }
  const mustExist = new Set<KeyName>([...(needs.required ?? []), ...(production ? (needs.production ?? []) : [])]);
  const keys: Partial<Record<KeyName, unknown>> = {};
  for (const name of new Set([...(needs.required ?? []), ...(needs.production ?? []), ...(needs.optional ?? [])])) {
    const file = config.keys[name];
    if (file === undefined) continue;
    if (needs.required?.includes(name) || needs.production?.includes(name)) refuseDevelopmentKey(config, name, file);
    else if (production && isDevelopmentKey(config, file)) continue;
    const { expected, read } = FORMATS[name] as KeyFormat<KeyName>;
    const key = readKeyFile(KEY_VARIABLES[name], expected, file, (text) => read(text, config), {
      optional: !mustExist.has(name),
      hint: production ? '' : '; npm run dev-keys makes the development keys',
    });
    if (key !== undefined) keys[name] = key;
  }
  return new KeyRing(keys as Partial<PlatformKeys>);
}

/** A member's own private key, which a process the member runs signs with (its connector). */
export interface MemberSigningKey {
  readonly member: string;
  /** The key id its public half is registered under. */
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/**
 * Reads a member's private key once, at boot: `file` named by `variable` (e.g. CONNECTOR_MEMBER_KEY).
 * Production refuses a missing file and one under a development folder, like a platform key;
 * development and test run on without it (undefined: what it would sign goes out unsigned, and is
 * refused by whoever checks it).
 */
export function loadMemberSigningKey(
  config: DatarunConfig,
  key: { member: string; kid: string; file: string; variable: string },
): MemberSigningKey | undefined {
  refuseDevelopmentKeyFile(config, key.variable, key.file);
  const expected = "the member's private key (PEM: EC P-256 or RSA of at least 2048 bits)";
  return readKeyFile(
    key.variable,
    expected,
    key.file,
    (text) => {
      const privateKey = createPrivateKey(text);
      signingAlgorithmOf(privateKey);
      return { member: key.member, kid: key.kid, privateKey };
    },
    { optional: config.env !== 'production', hint: '' },
  );
}

/**
 * Reads the key file `file` (named by `variable`) and parses it with `parse`; whatever is wrong is
 * one ConfigError, `VARIABLE: expected <what> in <file> (<what is wrong>)`. A missing file is
 * undefined when `optional`, else an error (with `hint` after "no such file").
 */
function readKeyFile<T>(
  variable: string,
  expected: string,
  file: string,
  parse: (text: string) => T,
  missing: { optional: boolean; hint: string },
): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missing.optional) return undefined;
    throw ConfigError.inFile(variable, expected, file, code === 'ENOENT' ? `no such file${missing.hint}` : (error as Error).message);
  }
  try {
    return parse(text);
  } catch (error) {
    throw ConfigError.inFile(variable, expected, file, (error as Error).message);
  }
}

function ecP256(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(
      `a ${key.asymmetricKeyType ?? 'symmetric'} key${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ''}, not EC P-256`,
    );
  }
  return key;
}

function ecP256Keys(text: string, pemKid: string): ReadonlyMap<string, KeyObject> {
  const keys = jwksToKeyObjects(publicKeyFileToJwks(text, pemKid));
  for (const [kid, key] of keys) {
    try {
      ecP256(key);
    } catch (error) {
      throw new Error(`key ${kid}: ${(error as Error).message}`);
    }
  }
  return keys;
}

function secret(text: string, minBytes: number): Buffer {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.length < minBytes) throw new Error(`${key.length} bytes`);
  return key;
}
