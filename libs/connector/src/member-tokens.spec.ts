import { generateKeyPairSync } from 'node:crypto';
import { InMemoryKeyDirectory, TokenVerifier } from '@datarun/auth';
import { decodeJwt } from 'jose';
import { MEMBER_TOKEN_LIFETIME_SEC, MEMBER_TOKEN_RENEW_BEFORE_SEC, MemberTokens } from './member-tokens.js';

const MEMBER = 'zj.demo.renshe';
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe("the connector's member tokens", () => {
  it('are call tokens of the member, which the gateway verifies against its registered key', async () => {
    const now = 1_750_000_000_000;
    const tokens = new MemberTokens({ member: MEMBER, kid: 'renshe-1', privateKey: key.privateKey }, () => now);
    const token = await tokens.current();
    expect(decodeJwt(token)).toMatchObject({ iss: MEMBER, sub: 'system', aud: 'datarun', exp: now / 1000 + MEMBER_TOKEN_LIFETIME_SEC });
    const verifier = new TokenVerifier(new InMemoryKeyDirectory([{ memberId: MEMBER, kind: 'department', keys: new Map([['renshe-1', key.publicKey]]) }]), {
      now: () => now,
    });
    expect(await verifier.verify(`Bearer ${token}`)).toMatchObject({ memberId: MEMBER, actor: 'system' });
  });

  it('serve one token until shortly before it expires, then a new one', async () => {
    let now = 1_750_000_000_000;
    const tokens = new MemberTokens({ member: MEMBER, kid: 'renshe-1', privateKey: key.privateKey }, () => now);
    const first = await tokens.current();
    now += (MEMBER_TOKEN_LIFETIME_SEC - MEMBER_TOKEN_RENEW_BEFORE_SEC) * 1000 - 1;
    expect(await tokens.current()).toBe(first);
    now += 1;
    const renewed = await tokens.current();
    expect(renewed).not.toBe(first);
    expect(decodeJwt(renewed).iat).toBe(now / 1000);
  });

  it('sign once for fetches that ask at the same moment', async () => {
    const tokens = new MemberTokens({ member: MEMBER, kid: 'renshe-1', privateKey: key.privateKey });
    const [a, b, c] = await Promise.all([tokens.current(), tokens.current(), tokens.current()]);
    expect(new Set([a, b, c]).size).toBe(1);
  });
});
