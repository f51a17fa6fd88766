import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { PlatformCallSigner, platformJwks, verifyPlatformCall } from './platform-call.js';

const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const platform = pair();
const signing = { kid: 'platform', privateKey: platform.privateKey };
const keys = new Map([['platform', createPublicKey(platform.privateKey)]]);
const PATH = '/v1/departments/marriage/records/330825199001011237';
const claims = {
  audience: 'marriage',
  member: 'zj.demo.service-hall',
  actor: 'clerk-7',
  purpose: 'property-transfer',
  caseId: 'c-1',
  correlationId: 'corr-1',
  method: 'GET',
  url: `http://127.0.0.1:3010${PATH}`,
};
/** What the department checks: its source, the request the token came with. */
const check = { audience: 'marriage', request: { method: 'GET', path: PATH }, now: () => NOW };
const NOW = Date.parse('2026-12-07T03:00:00Z');

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => (e instanceof Problem ? e.code : String(e)),
  );
}

describe('platform call tokens', () => {
  const signer = new PlatformCallSigner(signing, () => NOW);

  it('carry purpose, case, actor and correlation id, for the source named as audience and the one request', async () => {
    const token = signer.sign(claims);
    await expect(verifyPlatformCall(`Bearer ${token}`, keys, check)).resolves.toEqual(claims);
    // Behind a proxy the host differs; the path is what binds the token.
    await expect(verifyPlatformCall(`Bearer ${signer.sign({ ...claims, url: `https://dept.example.gov.cn${PATH}` })}`, keys, check)).resolves.toMatchObject({
      purpose: 'property-transfer',
    });
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
    ['a token for another person’s record', `Bearer ${signer.sign({ ...claims, url: claims.url.replace(/\d{4}$/, '1245') })}`, 'TOKEN_INVALID'],
    ['a token for another method', `Bearer ${signer.sign({ ...claims, method: 'POST' })}`, 'TOKEN_INVALID'],
    ['an unsigned token', `Bearer ${Buffer.from('{"alg":"none","typ":"datarun-call+jwt","kid":"platform"}').toString('base64url')}.e30.`, 'TOKEN_INVALID'],
  ])('are refused: %s', async (_why, header, code) => {
    expect(await codeOf(verifyPlatformCall(header, keys, check))).toBe(code);
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
