import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { signingAlgorithmOf } from './jws-algorithm.js';
import { DATARUN_AUDIENCE } from './token-verifier.js';

export interface MintTokenInput {
  /** `iss`: the member id (or the citizen identity provider's issuer). */
  issuer: string;
  /** Header `kid`: a key id the member registered. */
  kid: string;
  /** The member's private key, as a KeyObject or PEM text. */
  privateKey: KeyObject | string;
  /** `sub`: the acting person, or `system`. */
  subject: string;
  /** `aud`. Default `datarun`. */
  audience?: string;
  /** `exp - iat`, seconds. Default 300. */
  lifetimeSec?: number;
  /** The clock, in milliseconds since the epoch (like Date.now). */
  now?: () => number;
}

/**
 * Signs a datarun call token: RS256 for an RSA key, ES256 for an EC P-256 key. Asynchronous
 * because jose signs through WebCrypto, which has no synchronous form.
 */
export async function mintToken(input: MintTokenInput): Promise<string> {
  const key = typeof input.privateKey === 'string' ? parsePrivateKey(input.privateKey) : input.privateKey;
  if (key.type !== 'private') throw new Error('mintToken: a private key is required');
  const alg = signingAlgorithmOf(key);
  const lifetimeSec = input.lifetimeSec ?? 300;
  if (!Number.isInteger(lifetimeSec) || lifetimeSec <= 0) throw new Error('mintToken: lifetimeSec must be a positive integer');
  const iat = Math.floor((input.now ?? Date.now)() / 1000);
  return new SignJWT()
    .setProtectedHeader({ alg, kid: input.kid, typ: 'JWT' })
    .setIssuer(input.issuer)
    .setSubject(input.subject)
    .setAudience(input.audience ?? DATARUN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSec)
    .sign(key);
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new Error('mintToken: privateKey is not a PEM private key');
  }
}
