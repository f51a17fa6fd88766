import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { jwksToKeyObjects, publicKeyFileToJwks } from './jwks.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

function jwk(key: KeyObject, kid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...key.export({ format: 'jwk' }), kid, ...extra };
}

function refusal(run: () => unknown): Problem {
  try {
    run();
  } catch (error) {
    if (error instanceof Problem) return error;
    throw error;
  }
  throw new Error('expected a Problem');
}

function expectRefused(jwks: unknown, detail: RegExp): void {
  const problem = refusal(() => jwksToKeyObjects(jwks));
  expect(problem.code).toBe('VALIDATION_FAILED');
  expect(problem.detail).toMatch(/^jwks: /);
  expect(problem.detail).toMatch(detail);
}

describe('jwksToKeyObjects', () => {
  it('accepts a good EC JWKS (and RSA beside it) and returns KeyObjects by kid', () => {
    const keys = jwksToKeyObjects({
      keys: [jwk(ec.publicKey, 'hall-2025', { alg: 'ES256', use: 'sig' }), jwk(rsa.publicKey, 'hall-rsa', { alg: 'RS256' })],
    });
    expect([...keys.keys()]).toEqual(['hall-2025', 'hall-rsa']);
    expect(keys.get('hall-2025')?.equals(ec.publicKey)).toBe(true);
    expect(keys.get('hall-2025')?.type).toBe('public');
    expect(keys.get('hall-rsa')?.asymmetricKeyType).toBe('rsa');
  });

  it('refuses a private key, naming the kid', () => {
    expectRefused({ keys: [jwk(ec.privateKey, 'oops')] }, /kid "oops".*private key members \(d\)/);
    expectRefused({ keys: [jwk(rsa.privateKey, 'oops-rsa')] }, /private key members \(d, p, q, dp, dq, qi\)/);
  });

  it('refuses an oct (symmetric) key', () => {
    expectRefused({ keys: [{ kty: 'oct', kid: 'shared' }] }, /oct/);
    expectRefused({ keys: [{ kty: 'oct', kid: 'shared', k: 'c2VjcmV0' }] }, /private key members \(k\)/);
  });

  it('refuses a 1024-bit RSA key', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expectRefused({ keys: [jwk(weak.publicKey, 'weak')] }, /kid "weak".*1024 bits/);
  });

  it('refuses a duplicate kid', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectRefused({ keys: [jwk(ec.publicKey, 'k1'), jwk(other.publicKey, 'k1')] }, /key 1 \(kid "k1"\): duplicate kid/);
  });

  it.each([
    ['not an object', 'keys', /expected an object/],
    ['no keys array', { keys: 'x' }, /expected an object/],
    ['no keys', { keys: [] }, /1 to 10 keys, got 0/],
    ['11 keys', { keys: Array.from({ length: 11 }, (_, i) => jwk(ec.publicKey, `k${i}`)) }, /got 11/],
    ['a kid with a slash', { keys: [jwk(ec.publicKey, '../admin')] }, /key 0: kid must be/],
    ['a 65-character kid', { keys: [jwk(ec.publicKey, 'k'.repeat(65))] }, /key 0: kid must be/],
    ['a numeric kid', { keys: [jwk(ec.publicKey, 7 as unknown as string)] }, /key 0: kid must be/],
    ['curve P-384', { keys: [jwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 'p384')] }, /crv P-256/],
    ['an OKP key', { keys: [jwk(generateKeyPairSync('ed25519').publicKey, 'ed')] }, /kty must be RSA or EC/],
    ['alg HS256 on an EC key', { keys: [jwk(ec.publicKey, 'k', { alg: 'HS256' })] }, /alg must be ES256/],
    ['use enc', { keys: [jwk(ec.publicKey, 'k', { use: 'enc' })] }, /use must be "sig"/],
    [
      'a point off the curve',
      { keys: [{ ...jwk(ec.publicKey, 'k'), y: jwk(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'x').y }] },
      /not a valid EC public key/,
    ],
    ['garbage RSA members', { keys: [{ kty: 'RSA', kid: 'k', n: '!!', e: 'AQAB' }] }, /kid "k"/],
  ])('refuses %s', (_, jwks, detail) => {
    expectRefused(jwks, detail);
  });
});

describe('publicKeyFileToJwks', () => {
  it('turns a PEM public key into a one-key JWKS with the given kid', () => {
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const jwks = publicKeyFileToJwks(pem, 'admin');
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'admin', alg: 'ES256', use: 'sig' });
    expect(jwksToKeyObjects(jwks).get('admin')?.equals(ec.publicKey)).toBe(true);
  });

  it('accepts a JWKS file as it is, and a lone JWK with the given kid', () => {
    const file = JSON.stringify({ keys: [jwk(rsa.publicKey, 'idp-2025')] });
    expect(publicKeyFileToJwks(file, 'citizen-idp').keys[0].kid).toBe('idp-2025');
    const lone = JSON.stringify(rsa.publicKey.export({ format: 'jwk' }));
    expect(publicKeyFileToJwks(lone, 'citizen-idp').keys[0]).toMatchObject({ kty: 'RSA', kid: 'citizen-idp' });
  });

  it('refuses a private key PEM, garbage, and a JWKS holding a private key', () => {
    const privatePem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(refusal(() => publicKeyFileToJwks(privatePem, 'admin')).detail).toMatch(/private key/);
    expect(refusal(() => publicKeyFileToJwks('hello', 'admin')).code).toBe('VALIDATION_FAILED');
    expect(refusal(() => publicKeyFileToJwks('{"keys": [', 'admin')).code).toBe('VALIDATION_FAILED');
    expect(refusal(() => publicKeyFileToJwks(JSON.stringify({ keys: [jwk(ec.privateKey, 'admin')] }), 'admin')).code).toBe('VALIDATION_FAILED');
  });
});
