import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevKeys, DEMO_MEMBERS } from './dev-keys.js';
import { InMemoryKeyDirectory } from './in-memory-key-directory.js';
import { jwksToKeyObjects } from './jwks.js';
import { generateKeyPairFiles } from './key-files.js';
import { mintToken } from './mint-token.js';
import { TokenVerifier } from './token-verifier.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'datarun-auth-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateKeyPairFiles', () => {
  it('writes a 0600 PKCS#8 private key and an SPKI public key, then reuses them', async () => {
    const first = await generateKeyPairFiles(dir, 'hall', 'hall-1');
    expect(first.created).toBe(true);
    expect((await stat(first.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(first.privateKeyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await readFile(first.publicKeyPath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(first.jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'hall-1', alg: 'ES256', use: 'sig' });

    const second = await generateKeyPairFiles(dir, 'hall', 'hall-1');
    expect(second.created).toBe(false);
    expect(second.jwks).toEqual(first.jwks);
  });

  it('makes RSA pairs whose JWKS says RS256 and whose key mints verifiable tokens', async () => {
    const files = await generateKeyPairFiles(dir, 'rsa-member', 'r1', 'rsa');
    expect(files.jwks.keys[0]).toMatchObject({ kty: 'RSA', kid: 'r1', alg: 'RS256' });
    const directory = new InMemoryKeyDirectory([{ memberId: 'zj.x', kind: 'department', keys: jwksToKeyObjects(files.jwks) }]);
    const token = await mintToken({ issuer: 'zj.x', kid: 'r1', privateKey: await readFile(files.privateKeyPath, 'utf8'), subject: 'system' });
    expect(await new TokenVerifier(directory).verify(`Bearer ${token}`)).toEqual({ memberId: 'zj.x', role: 'department', actor: 'system' });
  });

  it('rewrites a public key file that does not match the private key', async () => {
    const files = await generateKeyPairFiles(dir, 'hall', 'hall-1');
    const good = await readFile(files.publicKeyPath, 'utf8');
    await writeFile(files.publicKeyPath, 'stale');
    await generateKeyPairFiles(dir, 'hall', 'hall-1');
    expect(await readFile(files.publicKeyPath, 'utf8')).toBe(good);
  });

  it('refuses a name that is not a plain file name', async () => {
    await expect(generateKeyPairFiles(dir, '../escape', 'k')).rejects.toThrow(/plain file name/);
  });
});

describe('ensureDevKeys', () => {
  it('makes the platform pairs, the subject-hash and material-link keys and the demo members, and reuses them', async () => {
    const keys = await ensureDevKeys(join(dir, 'keys'));
    expect(keys.admin.jwks.keys[0].kid).toBe('admin');
    expect(keys.citizenIdp.jwks.keys[0].kid).toBe('citizen-idp');
    expect(keys.audit.privateKeyPath).toBe(join(dir, 'keys', 'audit.key.pem'));
    expect(keys.platform.jwks.keys[0].kid).toBe('platform');
    const hashKey = (await readFile(keys.subjectHashKeyPath, 'utf8')).trim();
    expect(Buffer.from(hashKey, 'base64url')).toHaveLength(32);
    expect((await stat(keys.subjectHashKeyPath)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(keys.materialLinkKeyPath, 'utf8')).trim(), 'base64url')).toHaveLength(32);
    expect((await stat(keys.materialLinkKeyPath)).mode & 0o777).toBe(0o600);

    const written = JSON.parse(await readFile(keys.demoMembersPath, 'utf8')) as Array<Record<string, unknown>>;
    expect(written.map((m) => m.id)).toEqual(DEMO_MEMBERS.map((m) => m.id));
    for (const member of keys.demoMembers) {
      const receives = DEMO_MEMBERS.find((m) => m.id === member.id)?.receives;
      expect(Object.keys(member).sort()).toEqual(['id', 'jwks', 'kind', 'name', 'privateKeyPath', ...(receives ? ['receives'] : [])].sort());
      expect(member.receives).toEqual(receives);
      expect([...jwksToKeyObjects(member.jwks).keys()]).toEqual([member.id]);
      createPrivateKey(await readFile(member.privateKeyPath, 'utf8'));
    }
    expect(keys.created.length).toBe(5 + 2 + DEMO_MEMBERS.length);

    const again = await ensureDevKeys(join(dir, 'keys'));
    expect(again.created).toEqual([]);
    expect(again.admin.jwks).toEqual(keys.admin.jwks);
    expect((await readFile(again.subjectHashKeyPath, 'utf8')).trim()).toBe(hashKey);
  });
});

describe('the demo city', () => {
  it("has the demo matters' eight recipients: six Kafka connectors and two webhooks the sandbox serves, one member per utility kind", () => {
    const recipients = DEMO_MEMBERS.filter((m) => m.receives).map(
      (m) => `${m.id} ${m.kind} ${m.receives!.delivery} ${m.receives!.utilityKind ?? '-'} ${m.receives!.requests.join(',')}`,
    );
    expect(recipients.sort()).toEqual(
      [
        'zj.demo.water utility kafka water transfer,discount',
        'zj.demo.electricity utility kafka electricity transfer,discount',
        'zj.demo.gas utility kafka gas transfer,discount',
        'zj.demo.guangdian utility kafka cable transfer,discount',
        'zj.demo.broadband utility webhook broadband transfer,discount',
        'zj.demo.renshe department kafka - benefit',
        'zj.demo.jiaoyu department kafka - benefit',
        'zj.demo.canlian department webhook - benefit',
      ].sort(),
    );
    // A utility's domain is the kind it receives for; only departments with a built-in source have a domain.
    for (const m of DEMO_MEMBERS.filter((d) => d.kind === 'utility')) expect(m.receives?.utilityKind).toBe(m.domain);
    expect(DEMO_MEMBERS.filter((m) => m.kind === 'department' && m.domain).map((m) => m.domain)).toEqual([
      'household',
      'marriage',
      'social-security',
      'property',
    ]);
    expect(new Set(DEMO_MEMBERS.map((m) => m.id)).size).toBe(DEMO_MEMBERS.length);
  });
});
