import { createPrivateKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
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

/** Signs a datarun call token: RS256 for an RSA key, ES256 for an EC P-256 key. */
export function mintToken(input: MintTokenInput): string {
  const key = typeof input.privateKey === 'string' ? parsePrivateKey(input.privateKey) : input.privateKey;
  if (key.type !== 'private') throw new Error('mintToken: a private key is required');
  const algorithm = signingAlgorithmOf(key);
  const lifetimeSec = input.lifetimeSec ?? 300;
  if (!Number.isInteger(lifetimeSec) || lifetimeSec <= 0) throw new Error('mintToken: lifetimeSec must be a positive integer');
  const iat = Math.floor((input.now ?? Date.now)() / 1000);
  return jwt.sign({ iss: input.issuer, sub: input.subject, aud: input.audience ?? DATARUN_AUDIENCE, iat, exp: iat + lifetimeSec }, key, {
    algorithm,
    keyid: input.kid,
  });
}

/** The one JWS algorithm datarun accepts for a key: RS256 (RSA) or ES256 (EC P-256). */
export function signingAlgorithmOf(key: KeyObject): 'RS256' | 'ES256' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(`unsupported key: ${key.asymmetricKeyType ?? key.type} (datarun accepts RSA or EC P-256)`);
}

function parsePrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new Error('mintToken: privateKey is not a PEM private key');
  }
}
