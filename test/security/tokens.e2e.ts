// Token attacks through HTTP: each is 401 with its code, and the refused call stored nothing.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mintToken, publicJwkOf } from '@datarun/auth';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { adminKeyFile, keyPair, memberWithKey, registerMember, type TestMember } from '../support/members.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('token attacks on the registry', () => {
  let db: TestDatabase;
  let t: TestApp;
  let admin: TestMember;
  let adminPublicPem: string;
  let memberCount: number;

  const members = async () => Number((await db.ownerQuery('SELECT count(*) FROM member')).rows[0].count);
  const attempt = async (authorization: string) => {
    const res = await t.http
      .post('/v1/members')
      .set('authorization', authorization)
      .send({ id: `zj.intruder-${Math.random().toString(36).slice(2, 8)}`, name: 'x', kind: 'admin', jwks: { keys: [publicJwkOf(keyPair().publicKey, 'k')] } });
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(await members()).toBe(memberCount);
    return res.body.code as string;
  };

  beforeAll(async () => {
    const keys = adminKeyFile();
    admin = keys.admin;
    adminPublicPem = readFileSync(keys.publicKeyPath, 'utf8');
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath });
    t = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    memberCount = await members();
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('alg none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT', kid: 'admin' })}.${b64({ iss: 'datarun.admin', sub: 'x', aud: 'datarun', iat: now(), exp: now() + 60 })}.`;
    expect(await attempt(`Bearer ${token}`)).toBe('TOKEN_INVALID');
  });

  it('HS256 signed with the admin public key as the secret', async () => {
    const head = `${b64({ alg: 'HS256', typ: 'JWT', kid: 'admin' })}.${b64({ iss: 'datarun.admin', sub: 'x', aud: 'datarun', iat: now(), exp: now() + 60 })}`;
    const sig = createHmac('sha256', adminPublicPem).update(head).digest('base64url');
    expect(await attempt(`Bearer ${head}.${sig}`)).toBe('TOKEN_INVALID');
  });

  it('an expired token', async () => {
    const token = await mintToken({ issuer: admin.id, kid: admin.kid, privateKey: admin.privateKey, subject: 'x', now: () => Date.now() - 3600_000 });
    expect(await attempt(`Bearer ${token}`)).toBe('TOKEN_EXPIRED');
  });

  it('a token for another audience', async () => {
    const token = await mintToken({ issuer: admin.id, kid: admin.kid, privateKey: admin.privateKey, subject: 'x', audience: 'other-system' });
    expect(await attempt(`Bearer ${token}`)).toBe('TOKEN_INVALID');
  });

  it('an unknown kid', async () => {
    const token = await mintToken({ issuer: admin.id, kid: 'not-registered', privateKey: admin.privateKey, subject: 'x' });
    expect(await attempt(`Bearer ${token}`)).toBe('TOKEN_INVALID');
  });

  it('a key the issuer never registered (forged admin)', async () => {
    const forger = memberWithKey('datarun.admin', 'admin', keyPair(), 'admin');
    expect(await attempt(await forger.auth())).toBe('TOKEN_INVALID');
  });

  it.each([
    ['longer than 128 characters', 'x'.repeat(129)],
    ['with a right-to-left override', 'admin-\u202e1'],
    ['with a newline', 'admin\n1'],
    ['with a zero-width space', 'admin\u200b1'],
  ])('a genuinely signed token whose sub is %s: 401 naming the claim, nothing stored', async (_, subject) => {
    const token = await mintToken({ issuer: admin.id, kid: admin.kid, privateKey: admin.privateKey, subject });
    const res = await t.http
      .post('/v1/members')
      .set('authorization', `Bearer ${token}`)
      .send({ id: 'zj.intruder-sub', name: 'x', kind: 'admin', jwks: { keys: [publicJwkOf(keyPair().publicKey, 'k')] } })
      .expect(401);
    expect(res.body).toMatchObject({ code: 'TOKEN_INVALID', detail: expect.stringMatching(/^sub /) });
    expect(await members()).toBe(memberCount);
  });

  it('an iss that cannot be a member id: 401 naming the claim', async () => {
    const token = await mintToken({ issuer: 'Datarun.Admin/../x', kid: admin.kid, privateKey: admin.privateKey, subject: 'x' });
    const res = await t.http.get('/v1/catalog').set('authorization', `Bearer ${token}`).expect(401);
    expect(res.body).toMatchObject({ code: 'TOKEN_INVALID', detail: expect.stringMatching(/^iss /) });
  });

  it('no token, and a non-bearer scheme', async () => {
    expect(await attempt('')).toBe('TOKEN_MISSING');
    expect(await attempt('Basic YWRtaW46YWRtaW4=')).toBe('TOKEN_MISSING');
  });

  it('rate-limits per member: the burst passes, the next call is 429 with Retry-After, others are unaffected', async () => {
    const limited = await bootApp(RegistryAppModule.forRoot({ ...db.config, rateLimit: { ...db.config.rateLimit, perSecond: 1, burst: 3 } }), 'registry');
    try {
      const dept = await registerMember(t, admin, 'department', 'zj.test.busy');
      memberCount += 1;
      for (let i = 0; i < 3; i += 1)
        await limited.http
          .get('/v1/catalog')
          .set('authorization', await dept.auth())
          .expect(200);
      const res = await limited.http
        .get('/v1/catalog')
        .set('authorization', await dept.auth())
        .expect(429);
      expect(res.body.code).toBe('RATE_LIMITED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      await limited.http
        .get('/v1/catalog')
        .set('authorization', await admin.auth())
        .expect(200);
    } finally {
      await limited.close();
    }
  });

  it('a removed key stops working at once (a replaced one keeps its overlap: small-leaks.e2e.ts); the new one works', async () => {
    const dept = await registerMember(t, admin, 'department', 'zj.test.rotating');
    memberCount += 1;
    const oldToken = await dept.auth();
    await t.http.get('/v1/catalog').set('authorization', oldToken).expect(200);
    const next = keyPair();
    await t.http
      .put(`/v1/members/${dept.id}/keys`)
      .set('authorization', oldToken)
      .send({ keys: [publicJwkOf(next.publicKey, 'k2')] })
      .expect(200);
    const rotated = memberWithKey(dept.id, 'department', next, 'k2');
    await t.http
      .delete(`/v1/members/${dept.id}/keys/${dept.kid}`)
      .set('authorization', await rotated.auth())
      .expect(200);
    const refused = await t.http.get('/v1/catalog').set('authorization', oldToken).expect(401);
    expect(refused.body.code).toBe('TOKEN_INVALID');
    await t.http
      .get('/v1/catalog')
      .set('authorization', await rotated.auth())
      .expect(200);
  });
});
