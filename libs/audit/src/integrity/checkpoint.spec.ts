import { createPrivateKey, createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';

import { canonicalBytes } from './canonical.js';
import { checkpointSigningBytes, signCheckpoint, verifyCheckpoint, type SignedCheckpoint } from './checkpoint.js';

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

const fields = {
  seq: 1234,
  chainHash: 'a'.repeat(64),
  rootHash: '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  signedAt: '2025-03-01T08:15:30.123Z',
};

describe('signed checkpoints', () => {
  const platform = p256();
  const signed = signCheckpoint(fields, platform.privateKey, 'audit');

  it('has the API.md shape, and verifies against the trusted key', () => {
    expect(Object.keys(signed).sort()).toEqual(['alg', 'chainHash', 'kid', 'publicKey', 'rootHash', 'seq', 'signature', 'signedAt']);
    expect(signed).toMatchObject({ ...fields, alg: 'ES256', kid: 'audit' });
    expect(signed.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(Buffer.from(signed.signature, 'base64url')).toHaveLength(64);
    expect(signed.publicKey).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'audit', alg: 'ES256' });
    expect(signed.publicKey).not.toHaveProperty('d');
    expect(verifyCheckpoint(signed, platform.publicKey)).toBe(true);
  });

  it('survives a JSON round trip (what the API and the Kafka topic carry)', () => {
    const copy = JSON.parse(JSON.stringify(signed)) as SignedCheckpoint;
    expect(verifyCheckpoint(copy, platform.publicKey)).toBe(true);
    // And the published JWK can serve as the trusted key once obtained out of band.
    expect(verifyCheckpoint(copy, createPublicKey({ key: copy.publicKey as never, format: 'jwk' }))).toBe(true);
  });

  it('signs the RFC 8785 JSON of the body without signature and publicKey (as any JWS library would check)', () => {
    const body = { seq: fields.seq, chainHash: fields.chainHash, rootHash: fields.rootHash, signedAt: fields.signedAt, alg: 'ES256', kid: 'audit' };
    const bytes = canonicalBytes(body);
    expect(bytes.toString()).toBe(
      `{"alg":"ES256","chainHash":"${fields.chainHash}","kid":"audit","rootHash":"${fields.rootHash}","seq":1234,"signedAt":"${fields.signedAt}"}`,
    );
    expect(checkpointSigningBytes(signed)).toEqual(bytes);
    const ok = verify('sha256', bytes, { key: platform.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signed.signature, 'base64url'));
    expect(ok).toBe(true);
  });

  it('a fresh signature each time (ECDSA is randomized) still verifies', () => {
    const again = signCheckpoint(fields, platform.privateKey, 'audit');
    expect(verifyCheckpoint(again, platform.publicKey)).toBe(true);
  });

  it.each<[string, Partial<Record<keyof SignedCheckpoint | 'extra', unknown>>]>([
    ['seq', { seq: 1235 }],
    ['seq (truncated log)', { seq: 1224 }],
    ['chainHash', { chainHash: 'b'.repeat(64) }],
    ['rootHash', { rootHash: 'c'.repeat(64) }],
    ['signedAt', { signedAt: '2025-03-01T08:15:30.124Z' }],
    ['kid', { kid: 'audit-2' }],
    ['alg', { alg: 'ES384' }],
    ['alg none', { alg: 'none' }],
    ['alg RS256', { alg: 'RS256' }],
    ['signature', { signature: `${signed.signature.slice(0, -2)}AA` }],
    ['signature in DER', { signature: 'MEUCIQ' }],
    ['signature with padding', { signature: `${signed.signature}==` }],
    ['an upper-case chainHash', { chainHash: fields.chainHash.toUpperCase() }],
    ['an unsigned extra field', { extra: 'x' }],
  ])('any change is refused: %s', (_name, change) => {
    const changed = { ...signed, ...change } as SignedCheckpoint;
    expect(verifyCheckpoint(changed, platform.publicKey)).toBe(false);
  });

  it('a checkpoint signed by another key, carrying that key as publicKey, is refused', () => {
    // An attacker who rewrites the database recomputes the chain, signs with their own key and
    // embeds it. Verification uses the trusted key only.
    const attacker = p256();
    const forged = signCheckpoint({ ...fields, chainHash: 'd'.repeat(64) }, attacker.privateKey, 'audit');
    expect(forged.publicKey.x).not.toBe(signed.publicKey.x);
    expect(verifyCheckpoint(forged, platform.publicKey)).toBe(false);
    // Even with the genuine public key pasted in as publicKey.
    expect(verifyCheckpoint({ ...forged, publicKey: signed.publicKey }, platform.publicKey)).toBe(false);
    // It is only "valid" for someone who trusts the attacker's key.
    expect(verifyCheckpoint(forged, attacker.publicKey)).toBe(true);
  });

  it('refuses to sign with anything but an EC P-256 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(() => signCheckpoint(fields, rsa.privateKey, 'audit')).toThrow(TypeError);
    expect(() => signCheckpoint(fields, p384.privateKey, 'audit')).toThrow(TypeError);
    expect(() => signCheckpoint(fields, platform.publicKey, 'audit')).toThrow(TypeError);
    expect(() => signCheckpoint({ ...fields, chainHash: 'xyz' }, platform.privateKey, 'audit')).toThrow(TypeError);
    expect(() => signCheckpoint({ ...fields, signedAt: '2025-03-01' }, platform.privateKey, 'audit')).toThrow(TypeError);
    expect(() => signCheckpoint(fields, platform.privateKey, '')).toThrow(TypeError);
  });

  it('throws when the trusted key is not an EC P-256 key (configuration error)', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => verifyCheckpoint(signed, rsa.publicKey)).toThrow(TypeError);
    expect(() => verifyCheckpoint(signed, undefined as unknown as KeyObject)).toThrow(TypeError);
  });

  it('accepts keys loaded from PEM, as the audit app will', () => {
    const pem = platform.privateKey.export({ format: 'pem', type: 'pkcs8' });
    const loaded = createPrivateKey(pem);
    const fromPem = signCheckpoint({ ...fields, seq: 0 }, loaded, 'audit');
    expect(verifyCheckpoint(fromPem, createPublicKey(platform.publicKey.export({ format: 'pem', type: 'spki' })))).toBe(true);
  });
});
