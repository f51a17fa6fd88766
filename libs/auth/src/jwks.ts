import { createPublicKey, type KeyObject } from 'node:crypto';
import { Problem } from '@datarun/problems';

/** A public JSON Web Key as a member registers it. */
export interface PublicJwk {
  readonly kty: string;
  readonly kid: string;
  readonly alg?: string;
  readonly use?: string;
  /**
   * Not in RFC 7517: when the key stops verifying (NumericDate, seconds), as datarun keeps a key
   * that a rotation replaced until its overlap ends (docs/security.md, rotation of a member's key).
   */
  readonly exp?: number;
  readonly [member: string]: unknown;
}

export interface Jwks {
  keys: PublicJwk[];
}

export const MAX_JWKS_KEYS = 10;
export const MIN_RSA_MODULUS_BITS = 2048;
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** JWK members that only a private (or symmetric) key has; `oth` is multi-prime RSA, `k` is oct. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;
/** The one algorithm each accepted key type may sign with (docs/api.md: RS256 or ES256 only). */
const ALG_FOR_KTY: Readonly<Record<string, string>> = { RSA: 'RS256', EC: 'ES256' };

function refuse(why: string): Problem {
  return new Problem('VALIDATION_FAILED', `jwks: ${why}`);
}

/**
 * Validates a JWKS a member registers and turns it into verification keys by kid. Refuses
 * anything that is not 1..10 public RSA (≥ 2048 bits) or EC P-256 keys with unique, plain kids:
 * a private member would mean the member sent us its private key, and `oct` keys would let
 * anyone holding the (public!) registration forge tokens.
 */
export function jwksToKeyObjects(jwks: unknown): Map<string, KeyObject> {
  if (!isPlainObject(jwks) || !Array.isArray(jwks.keys)) {
    throw refuse('expected an object {"keys": [...]}');
  }
  const keys: unknown[] = jwks.keys;
  if (keys.length < 1 || keys.length > MAX_JWKS_KEYS) {
    throw refuse(`expected 1 to ${MAX_JWKS_KEYS} keys, got ${keys.length}`);
  }
  const result = new Map<string, KeyObject>();
  keys.forEach((jwk, index) => {
    if (!isPlainObject(jwk)) throw refuse(`key ${index} is not an object`);
    const kid = jwk.kid;
    if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
      throw refuse(`key ${index}: kid must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    }
    const at = `key ${index} (kid "${kid}")`;
    if (result.has(kid)) throw refuse(`${at}: duplicate kid`);
    const privateMembers = PRIVATE_MEMBERS.filter((member) => Object.hasOwn(jwk, member));
    if (privateMembers.length > 0) {
      throw refuse(`${at}: has private key members (${privateMembers.join(', ')}); register only the public key`);
    }
    if (jwk.kty === 'oct') throw refuse(`${at}: symmetric (oct) keys are not accepted`);
    const expectedAlg = typeof jwk.kty === 'string' ? ALG_FOR_KTY[jwk.kty] : undefined;
    if (expectedAlg === undefined) throw refuse(`${at}: kty must be RSA or EC`);
    if (jwk.kty === 'EC' && jwk.crv !== 'P-256') throw refuse(`${at}: EC keys must use crv P-256`);
    if (jwk.alg !== undefined && jwk.alg !== expectedAlg) throw refuse(`${at}: alg must be ${expectedAlg} for a ${jwk.kty} key`);
    if (jwk.use !== undefined && jwk.use !== 'sig') throw refuse(`${at}: use must be "sig"`);
    if (jwk.exp !== undefined && !(Number.isSafeInteger(jwk.exp) && (jwk.exp as number) >= 0)) {
      throw refuse(`${at}: exp must be a NumericDate (whole seconds since 1970-01-01)`);
    }

    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch {
      throw refuse(`${at}: not a valid ${jwk.kty} public key`);
    }
    if (jwk.kty === 'RSA') {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (key.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_MODULUS_BITS) {
        throw refuse(`${at}: RSA modulus is ${bits} bits, at least ${MIN_RSA_MODULUS_BITS} required`);
      }
    } else if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw refuse(`${at}: not a valid EC P-256 public key`);
    }
    result.set(kid, key);
  });
  return result;
}

/** Whether a registered key has expired at `nowSec` (its `exp`, when it has one, is not ahead). */
export function keyExpired(jwk: PublicJwk, nowSec: number): boolean {
  return jwk.exp !== undefined && jwk.exp <= nowSec;
}

/**
 * The verification keys of a registered JWKS that are valid at `nowSec`: a key past its `exp` no
 * longer verifies anything (tokens, signed records, statuses). Empty when none is left.
 */
export function unexpiredKeyObjects(jwks: Jwks, nowSec = Math.floor(Date.now() / 1000)): Map<string, KeyObject> {
  const live = jwks.keys.filter((jwk) => !keyExpired(jwk, nowSec));
  return live.length === 0 ? new Map() : jwksToKeyObjects({ keys: live });
}

/** The JWK of a public key with our registration members: kid, the one alg, use "sig". */
export function publicJwkOf(key: KeyObject, kid: string): PublicJwk {
  const jwk = key.export({ format: 'jwk' });
  const kty = jwk.kty ?? '';
  return { ...jwk, kty, kid, alg: ALG_FOR_KTY[kty], use: 'sig' };
}

/**
 * Reads a configured public key (DATARUN_ADMIN_PUBLIC_KEY, DATARUN_CITIZEN_IDP_PUBLIC_KEY):
 * either a PEM public key, which gets key id `kid`, or JSON — a JWKS, or one JWK (which gets
 * `kid` when it has none). The result has passed `jwksToKeyObjects`.
 */
export function publicKeyFileToJwks(pemOrJwksText: string, kid: string): Jwks {
  const text = pemOrJwksText.trim();
  let jwks: Jwks;
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw refuse('the key file is neither a PEM public key nor valid JSON');
    }
    if (isPlainObject(parsed) && !Object.hasOwn(parsed, 'keys') && typeof parsed.kty === 'string') {
      jwks = { keys: [{ ...parsed, kty: parsed.kty, kid: typeof parsed.kid === 'string' ? parsed.kid : kid }] };
    } else {
      jwks = parsed as Jwks;
    }
  } else {
    // createPublicKey would happily derive the public half from a private key; a private key in
    // a place meant for public keys is a mistake worth stopping at.
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
      throw refuse('the key file holds a private key; configure the public key');
    }
    let key: KeyObject;
    try {
      key = createPublicKey({ key: text, format: 'pem' });
    } catch {
      throw refuse('the key file is neither a PEM public key nor a JWKS');
    }
    jwks = { keys: [publicJwkOf(key, kid)] };
  }
  jwksToKeyObjects(jwks);
  return jwks;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
