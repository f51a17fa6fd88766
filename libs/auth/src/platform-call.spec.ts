import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { PlatformCallSigner, platformJwks, verifyPlatformCall } from './platform-call.js';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const platform = pair();
const signing = { kid: 'platform', privateKey: platform.privateKey };
const keys = new Map([['platform', createPublicKey(platform.privateKey)]]);
const claims = { audience: 'marriage', member: 'zj.demo.service-hall', actor: 'clerk-7', purpose: 'property-transfer', caseId: 'c-1', correlationId: 'corr-1' };
const NOW = Date.parse('2026-12-07T03:00:00Z');

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => (e instanceof Problem ? e.code : String(e)),
  );
}

describe('platform call tokens', () => {
  const signer = new PlatformCallSigner(signing, () => NOW);

  it('carry purpose, case, actor and correlation id, for the source named as audience', async () => {
    const token = signer.sign(claims);
    await expect(verifyPlatformCall(`Bearer ${token}`, keys, { audience: 'marriage', now: () => NOW })).resolves.toEqual(claims);
  });

  it.each([
    ['no token', undefined, 'TOKEN_MISSING'],
    ['a member token shape without Bearer', 'Basic x', 'TOKEN_MISSING'],
    ['another source as audience', `Bearer ${signer.sign({ ...claims, audience: 'household' })}`, 'TOKEN_INVALID'],
    [
      'a key that is not the platform’s',
      `Bearer ${new PlatformCallSigner({ kid: 'platform', privateKey: pair().privateKey }, () => NOW).sign(claims)}`,
      'TOKEN_INVALID',
    ],
    ['an unknown kid', `Bearer ${new PlatformCallSigner({ kid: 'other', privateKey: platform.privateKey }, () => NOW).sign(claims)}`, 'TOKEN_INVALID'],
    ['an expired token', `Bearer ${new PlatformCallSigner(signing, () => NOW - 10 * 60_000).sign(claims)}`, 'TOKEN_EXPIRED'],
    ['an empty actor', `Bearer ${signer.sign({ ...claims, actor: '' })}`, 'TOKEN_INVALID'],
    ['an unsigned token', `Bearer ${Buffer.from('{"alg":"none","typ":"datarun-call+jwt","kid":"platform"}').toString('base64url')}.e30.`, 'TOKEN_INVALID'],
  ])('are refused: %s', async (_why, header, code) => {
    expect(await codeOf(verifyPlatformCall(header, keys, { audience: 'marriage', now: () => NOW }))).toBe(code);
  });

  it('publish only public halves, the signing key first', () => {
    const retired = pair();
    const jwks = platformJwks(
      signing,
      new Map([
        ['platform', keys.get('platform')!],
        ['platform-2025', retired.publicKey],
      ]),
    );
    expect(jwks.keys.map((k) => k.kid)).toEqual(['platform', 'platform-2025']);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(key).not.toHaveProperty('d');
    }
  });
});
