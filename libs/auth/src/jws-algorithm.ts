import type { KeyObject } from 'node:crypto';
import { MIN_RSA_MODULUS_BITS } from './jwks.js';

/** The JWS algorithms datarun signs and accepts (docs/api.md "Calling datarun"). */
export type JwsAlgorithm = 'RS256' | 'ES256';

/**
 * The one algorithm a key may be used with, or undefined for a key datarun does not accept.
 * Tokens and record signatures take their algorithm from here, never from the header they carry:
 * a header naming another algorithm is refused, which is what stops alg-confusion attacks
 * (HS256 keyed with the public key, RS256 under an EC kid). RSA below 2048 bits and EC curves
 * other than P-256 get no algorithm, whichever way the key reached us.
 */
export function algorithmForKey(key: KeyObject): JwsAlgorithm | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= MIN_RSA_MODULUS_BITS) return 'RS256';
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/** The algorithm to sign with: RS256 (RSA ≥ 2048 bits) or ES256 (EC P-256); throws for any other key. */
export function signingAlgorithmOf(key: KeyObject): JwsAlgorithm {
  const alg = algorithmForKey(key);
  if (alg) return alg;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  const what = key.asymmetricKeyType === 'rsa' ? `rsa with ${bits} bits` : (key.asymmetricKeyType ?? key.type);
  throw new Error(`unsupported key: ${what} (datarun accepts RSA of at least ${MIN_RSA_MODULUS_BITS} bits or EC P-256)`);
}
