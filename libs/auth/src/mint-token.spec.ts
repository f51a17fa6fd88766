import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { mintToken } from './mint-token.js';

const NOW_MS = 1_750_000_000_000;
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('mintToken', () => {
  it('signs ES256 with the kid, and exactly the claims docs/api.md requires', async () => {
    const token = await mintToken({
      issuer: 'zj.demo.service-hall',
      kid: 'hall-1',
      privateKey: ec.privateKey,
      subject: 'clerk-1',
      lifetimeSec: 120,
      now: () => NOW_MS,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: 'hall-1', typ: 'JWT' });
    expect(decodeJwt(token)).toEqual({ iss: 'zj.demo.service-hall', sub: 'clerk-1', aud: 'datarun', iat: NOW_MS / 1000, exp: NOW_MS / 1000 + 120 });
  });

  it.each([
    ['a public key', ec.publicKey, /a private key is required/],
    ['an EC P-384 key', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, /unsupported key: ec/],
    ['an RSA key of 1024 bits', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /unsupported key: rsa with 1024 bits/],
    ['an Ed25519 key', generateKeyPairSync('ed25519').privateKey, /unsupported key: ed25519/],
    ['text that is not a PEM private key', 'not a key', /not a PEM private key/],
  ])('refuses to sign with %s', async (_, privateKey, message) => {
    await expect(mintToken({ issuer: 'zj.x', kid: 'k', privateKey, subject: 's' })).rejects.toThrow(message);
  });

  it.each([0, -5, 1.5])('refuses lifetimeSec %p', async (lifetimeSec) => {
    await expect(mintToken({ issuer: 'zj.x', kid: 'k', privateKey: ec.privateKey, subject: 's', lifetimeSec })).rejects.toThrow(/lifetimeSec/);
  });
});
