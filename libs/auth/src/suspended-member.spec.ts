// A suspended member (MemberKeys.suspendedKeys): its own tokens are refused MEMBER_SUSPENDED, a
// cached one too, while a forgery in its name is TOKEN_INVALID as for any stranger.
import { generateKeyPairSync } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { InMemoryKeyDirectory } from './in-memory-key-directory.js';
import { mintToken } from './mint-token.js';
import { TokenVerifier } from './token-verifier.js';

const MEMBER = 'zj.demo.service-hall';
const own = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keys = new Map([['k1', own.publicKey]]);
const active = { memberId: MEMBER, kind: 'consumer' as const, keys };
const suspended = { memberId: MEMBER, kind: 'consumer' as const, keys: new Map(), suspendedKeys: keys };

const bearer = async (privateKey = own.privateKey) => `Bearer ${await mintToken({ issuer: MEMBER, kid: 'k1', privateKey, subject: 'clerk-1' })}`;
const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'accepted',
    (error: unknown) => (error instanceof Problem ? error.code : String(error)),
  );

describe('TokenVerifier and a suspended member', () => {
  it('refuses the member’s own token MEMBER_SUSPENDED, a forgery TOKEN_INVALID', async () => {
    const verifier = new TokenVerifier(new InMemoryKeyDirectory([suspended]));
    expect(await codeOf(verifier.verify(await bearer()))).toBe('MEMBER_SUSPENDED');
    expect(await codeOf(verifier.verify(await bearer(stranger.privateKey)))).toBe('TOKEN_INVALID');
  });

  it('drops a token it verified and cached once the member is suspended, and takes it again once reinstated', async () => {
    const directory = new InMemoryKeyDirectory([active]);
    const verifier = new TokenVerifier(directory);
    const token = await bearer();
    expect(await verifier.verify(token)).toMatchObject({ memberId: MEMBER, role: 'consumer' });
    directory.set(suspended);
    expect(await codeOf(verifier.verify(token))).toBe('MEMBER_SUSPENDED');
    directory.set(active);
    expect(await verifier.verify(token)).toMatchObject({ memberId: MEMBER });
  });
});
