// Signed checkpoints (API.md, audit): `{seq, chainHash, rootHash, signedAt, alg, kid, signature,
// publicKey}`. The signature is ES256 as in JWS (RFC 7518 §3.4: ECDSA P-256 over SHA-256, the
// signature as the 64-byte IEEE P1363 concatenation r || s), base64url without padding, over the
// RFC 8785 canonical JSON of the checkpoint without `signature` and `publicKey`.
//
// Not a JWS: the signature covers the canonical bytes themselves, with no protected header, so that
// anyone can check it with plain ECDSA. jose signs only a JWS signing input
// (BASE64URL(header) '.' BASE64URL(payload)); using it would change the public format, so this stays
// on node:crypto.

import { createPublicKey, KeyObject, sign, verify, type JsonWebKey } from 'node:crypto';

import { canonicalBytes } from './canonical.js';

export interface CheckpointBody {
  /** The last record the checkpoint covers (0: the empty log). */
  seq: number;
  /** The hash chain's value at `seq`, lower-case hex. */
  chainHash: string;
  /** The RFC 6962 tree head over records 1..seq, lower-case hex. */
  rootHash: string;
  /** ISO 8601 UTC with milliseconds. */
  signedAt: string;
  alg: 'ES256';
  kid: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  /** base64url (no padding) of the 64-byte IEEE P1363 r || s. */
  signature: string;
  /** The signer's public JWK, with kid. Informational only: never verify against it. */
  publicKey: JsonWebKey;
}

export type CheckpointFields = Pick<CheckpointBody, 'seq' | 'chainHash' | 'rootHash' | 'signedAt'>;

const HEX_HASH = /^[0-9a-f]{64}$/;
const ISO_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ES256_SIGNATURE = /^[A-Za-z0-9_-]{86}$/; // 64 bytes in base64url without padding
const BODY_KEYS = ['seq', 'chainHash', 'rootHash', 'signedAt', 'alg', 'kid'] as const;
const SIGNED_KEYS: ReadonlySet<string> = new Set([...BODY_KEYS, 'signature', 'publicKey']);

function bodyProblem(body: Record<string, unknown>): string | undefined {
  if (!Number.isSafeInteger(body.seq) || (body.seq as number) < 0) return 'seq must be an integer >= 0';
  if (typeof body.chainHash !== 'string' || !HEX_HASH.test(body.chainHash)) return 'chainHash must be 64 lower-case hex digits';
  if (typeof body.rootHash !== 'string' || !HEX_HASH.test(body.rootHash)) return 'rootHash must be 64 lower-case hex digits';
  if (typeof body.signedAt !== 'string' || !ISO_MS_UTC.test(body.signedAt) || Number.isNaN(Date.parse(body.signedAt))) {
    return 'signedAt must be ISO 8601 UTC with milliseconds';
  }
  if (body.alg !== 'ES256') return 'alg must be ES256';
  if (typeof body.kid !== 'string' || body.kid === '') return 'kid must be a non-empty string';
  return undefined;
}

/** The bytes a checkpoint's signature covers: RFC 8785 JSON of the six body fields. */
export function checkpointSigningBytes(body: CheckpointBody): Buffer {
  const problem = bodyProblem(body as unknown as Record<string, unknown>);
  if (problem) throw new TypeError(`checkpoint: ${problem}`);
  const { seq, chainHash, rootHash, signedAt, alg, kid } = body;
  return canonicalBytes({ seq, chainHash, rootHash, signedAt, alg, kid });
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** Signs a checkpoint with an EC P-256 private key (ES256). */
export function signCheckpoint(fields: CheckpointFields, privateKey: KeyObject, kid: string): SignedCheckpoint {
  if (privateKey?.type !== 'private' || !isP256(privateKey)) {
    throw new TypeError('signCheckpoint: privateKey must be an EC P-256 private KeyObject');
  }
  const body: CheckpointBody = {
    seq: fields.seq,
    chainHash: fields.chainHash,
    rootHash: fields.rootHash,
    signedAt: fields.signedAt,
    alg: 'ES256',
    kid,
  };
  const signature = sign('sha256', checkpointSigningBytes(body), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return { ...body, signature: signature.toString('base64url'), publicKey: checkpointPublicJwk(privateKey, kid) };
}

/**
 * True when `checkpoint` carries a valid ES256 signature by `trustedKey` over its body.
 *
 * The key is the caller's TRUSTED key (configuration, the published JWKS, an independent copy),
 * never the `publicKey` embedded in the checkpoint: an attacker who rewrites the database can
 * recompute the chain, sign their own checkpoint with their own key and embed that key, and a
 * verifier that believed the embedded key would accept it.
 *
 * Returns false for any alg other than ES256, malformed fields, unknown extra fields (they would
 * not be covered by the signature) or a bad signature. Throws only when `trustedKey` itself is
 * not an EC P-256 key (a configuration error, not a verdict about the checkpoint).
 */
export function verifyCheckpoint(checkpoint: SignedCheckpoint, trustedKey: KeyObject): boolean {
  if (!trustedKey || (trustedKey.type !== 'public' && trustedKey.type !== 'private') || !isP256(trustedKey)) {
    throw new TypeError('verifyCheckpoint: trustedKey must be an EC P-256 KeyObject');
  }
  if (typeof checkpoint !== 'object' || checkpoint === null) return false;
  const record = checkpoint as unknown as Record<string, unknown>;
  if (Object.keys(record).some((key) => !SIGNED_KEYS.has(key))) return false;
  if (record.alg !== 'ES256') return false;
  if (bodyProblem(record)) return false;
  if (typeof record.signature !== 'string' || !ES256_SIGNATURE.test(record.signature)) return false;
  const signature = Buffer.from(record.signature, 'base64url');
  if (signature.length !== 64 || signature.toString('base64url') !== record.signature) return false;
  try {
    return verify('sha256', checkpointSigningBytes(checkpoint), { key: trustedKey, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    return false;
  }
}

/**
 * The keys a verifier trusts: keys by kid (the audit key and the keys it replaced: each checkpoint
 * is checked with the key of its kid, and a kid it does not know fails), or one key that every
 * checkpoint must verify under whatever kid it names (`--public-key <pem>`, tests).
 */
export type TrustedCheckpointKeys = KeyObject | ReadonlyMap<string, KeyObject>;

/** verifyCheckpoint with the trusted key of the checkpoint's kid; false for a kid no trusted key has. */
export function verifyCheckpointBy(checkpoint: SignedCheckpoint, trusted: TrustedCheckpointKeys): boolean {
  if (trusted instanceof KeyObject) return verifyCheckpoint(checkpoint, trusted);
  const kid = typeof checkpoint === 'object' && checkpoint !== null ? (checkpoint as { kid?: unknown }).kid : undefined;
  const key = typeof kid === 'string' ? trusted.get(kid) : undefined;
  return key !== undefined && verifyCheckpoint(checkpoint, key);
}

/** The public JWK a checkpoint of `kid` is shown with: the trusted key's, never one read from a row. */
export function checkpointPublicJwk(key: KeyObject, kid: string): JsonWebKey {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid, alg: 'ES256', use: 'sig' };
}
