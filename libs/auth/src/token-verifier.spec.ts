import { jest } from '@jest/globals';
import { constants, createHmac, createPublicKey, generateKeyPairSync, type KeyObject, sign as signBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { Problem, type ProblemCode } from '@datarun/problems';
import { InMemoryKeyDirectory } from './in-memory-key-directory.js';
import { mintToken } from './mint-token.js';
import { TokenVerifier, type TokenVerifierOptions } from './token-verifier.js';
import type { MemberKeys } from './types.js';

const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const MEMBER = 'zj.demo.service-hall';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function member(keys: Record<string, KeyObject> = { ec1: ec.publicKey, rsa1: rsa.publicKey }): MemberKeys {
  return { memberId: MEMBER, kind: 'consumer', keys: new Map(Object.entries(keys)) };
}

function setup(options: TokenVerifierOptions = {}) {
  const directory = new InMemoryKeyDirectory([member()]);
  const verifier = new TokenVerifier(directory, {
    now: () => NOW_MS,
    citizenIdp: { issuer: 'citizen-idp', keys: new Map([['citizen-idp', idp.publicKey]]) },
    ...options,
  });
  return { directory, verifier };
}

type ForgedAlg = 'ES256' | 'ES384' | 'RS256' | 'PS256' | 'HS256';

/**
 * Signs arbitrary claims and headers with node:crypto, for tokens mintToken (and jose) would never
 * make: any alg, HMAC keyed with a public key PEM, missing claims or kid, extra header members.
 * A claim or header member set to undefined is left out.
 */
function sign(
  claims: Record<string, unknown>,
  key: KeyObject | string,
  options: { algorithm?: ForgedAlg; kid?: string; header?: Record<string, unknown> } = {},
): string {
  const algorithm = options.algorithm ?? 'ES256';
  const header = withoutUndefined({ alg: algorithm, typ: 'JWT', kid: options.kid ?? 'ec1', ...options.header });
  const payload = withoutUndefined({ iss: MEMBER, sub: 'clerk-0042', aud: 'datarun', iat: NOW, exp: NOW + 300, ...claims });
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${forgedSignature(algorithm, input, key).toString('base64url')}`;
}

function forgedSignature(algorithm: ForgedAlg, input: string, key: KeyObject | string): Buffer {
  if (algorithm === 'HS256') return createHmac('sha256', key).update(input).digest();
  if (typeof key === 'string') throw new Error(`${algorithm} needs a KeyObject`);
  const data = Buffer.from(input);
  if (algorithm === 'ES256') return signBytes('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  if (algorithm === 'ES384') return signBytes('sha384', data, { key, dsaEncoding: 'ieee-p1363' });
  if (algorithm === 'PS256') return signBytes('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return signBytes('sha256', data, key);
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

async function refusal(verifier: TokenVerifier, authorization: string | undefined): Promise<Problem> {
  const error = await verifier.verify(authorization).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Problem)) throw new Error(`expected a Problem, got ${String(error)}`);
  return error;
}

async function expectCode(verifier: TokenVerifier, authorization: string | undefined, code: ProblemCode): Promise<Problem> {
  const problem = await refusal(verifier, authorization);
  expect(problem.code).toBe(code);
  return problem;
}

/**
 * Counts the signature verifications performed (jose verifies through WebCrypto), calling
 * through to the real one.
 */
function countSignatureChecks(): { readonly calls: number; restore(): void } {
  const subtle = globalThis.crypto.subtle;
  const real = subtle.verify;
  const counter = { calls: 0, restore: () => Object.defineProperty(subtle, 'verify', { value: real, configurable: true, writable: true }) };
  Object.defineProperty(subtle, 'verify', {
    value: (...args: Parameters<typeof real>) => {
      counter.calls++;
      return real.apply(subtle, args);
    },
    configurable: true,
    writable: true,
  });
  return counter;
}

describe('TokenVerifier: valid tokens', () => {
  it('accepts ES256 signed by a registered EC key and answers the caller', async () => {
    const { verifier } = setup();
    const token = await mintToken({ issuer: MEMBER, kid: 'ec1', privateKey: ec.privateKey, subject: 'clerk-0042', now: () => NOW_MS });
    expect(await verifier.verify(`Bearer ${token}`)).toEqual({ memberId: MEMBER, role: 'consumer', actor: 'clerk-0042' });
  });

  it('accepts RS256 signed by a registered RSA key (PEM private key)', async () => {
    const { verifier } = setup();
    const pem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const token = await mintToken({ issuer: MEMBER, kid: 'rsa1', privateKey: pem, subject: 'system', now: () => NOW_MS });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', kid: 'rsa1' });
    expect(await verifier.verify(`Bearer ${token}`)).toEqual({ memberId: MEMBER, role: 'consumer', actor: 'system' });
  });

  it('accepts a citizen token from the configured identity provider', async () => {
    const { verifier } = setup();
    const token = await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: '11010519491231002X', now: () => NOW_MS });
    expect(await verifier.verify(`Bearer ${token}`)).toEqual({ memberId: 'citizen-idp', role: 'citizen', actor: '11010519491231002X' });
  });

  it('refuses a citizen-idp token when no identity provider is configured', async () => {
    const verifier = new TokenVerifier(new InMemoryKeyDirectory([member()]), { now: () => NOW_MS });
    const token = await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: '11010519491231002X', now: () => NOW_MS });
    await expectCode(verifier, `Bearer ${token}`, 'TOKEN_INVALID');
  });

  it('round-trips mintToken → verify with the defaults and the real clock', async () => {
    const verifier = new TokenVerifier(new InMemoryKeyDirectory([member()]));
    const token = await mintToken({ issuer: MEMBER, kid: 'ec1', privateKey: ec.privateKey, subject: 'clerk-7' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: MEMBER, sub: 'clerk-7', aud: 'datarun' });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(await verifier.verify(`bearer ${token}`)).toEqual({ memberId: MEMBER, role: 'consumer', actor: 'clerk-7' });
  });
});

describe('TokenVerifier: the Authorization header', () => {
  it.each([undefined, '', 'Bearer', 'Bearer   ', 'Basic dXNlcjpwYXNz', 'Token abc.def.ghi'])('answers TOKEN_MISSING for %p', async (header) => {
    await expectCode(setup().verifier, header, 'TOKEN_MISSING');
  });

  it.each(['Bearer not-a-jwt', 'Bearer a.b', 'Bearer a.b.c d', 'Bearer ....'])('answers TOKEN_INVALID for %p', async (header) => {
    await expectCode(setup().verifier, header, 'TOKEN_INVALID');
  });
});

describe('TokenVerifier: refusals', () => {
  it('refuses alg none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT', kid: 'ec1' })}.${b64({ iss: MEMBER, sub: 'x', aud: 'datarun', iat: NOW, exp: NOW + 300 })}.`;
    await expectCode(setup().verifier, `Bearer ${token}`, 'TOKEN_INVALID');
    // …also with something in the signature slot.
    await expectCode(setup().verifier, `Bearer ${token}AAAA`, 'TOKEN_INVALID');
  });

  it('refuses HS256 whose HMAC secret is the member’s public key PEM', async () => {
    const publicPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const token = sign({}, publicPem, { algorithm: 'HS256', kid: 'ec1' });
    await expectCode(setup().verifier, `Bearer ${token}`, 'TOKEN_INVALID');
    const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await expectCode(setup().verifier, `Bearer ${sign({}, rsaPem, { algorithm: 'HS256', kid: 'rsa1' })}`, 'TOKEN_INVALID');
  });

  it('answers TOKEN_EXPIRED for an expired token', async () => {
    const token = sign({ iat: NOW - 600, exp: NOW - 120 }, ec.privateKey);
    await expectCode(setup().verifier, `Bearer ${token}`, 'TOKEN_EXPIRED');
  });

  it('tolerates 60 s of clock skew on exp, not more', async () => {
    const { verifier } = setup();
    expect(await verifier.verify(`Bearer ${sign({ iat: NOW - 330, exp: NOW - 30 }, ec.privateKey)}`)).toMatchObject({ memberId: MEMBER });
    await expectCode(verifier, `Bearer ${sign({ iat: NOW - 361, exp: NOW - 61 }, ec.privateKey)}`, 'TOKEN_EXPIRED');
  });

  it('refuses an audience other than datarun', async () => {
    await expectCode(setup().verifier, `Bearer ${sign({ aud: 'someone-else' }, ec.privateKey)}`, 'TOKEN_INVALID');
    await expectCode(setup().verifier, `Bearer ${sign({ aud: undefined }, ec.privateKey)}`, 'TOKEN_INVALID');
  });

  it('refuses an unknown kid and an unknown issuer with the same detail', async () => {
    const { verifier } = setup();
    const unknownKid = await expectCode(verifier, `Bearer ${sign({}, ec.privateKey, { kid: 'ec9' })}`, 'TOKEN_INVALID');
    const unknownIss = await expectCode(verifier, `Bearer ${sign({ iss: 'zj.nobody' }, ec.privateKey)}`, 'TOKEN_INVALID');
    expect(unknownIss.detail).toBe(unknownKid.detail);
    // A token signed by someone else's key under a real kid says nothing more either.
    const forged = await expectCode(verifier, `Bearer ${sign({}, attacker.privateKey)}`, 'TOKEN_INVALID');
    expect(forged.detail).toBe(unknownKid.detail);
  });

  it('refuses a token without kid', async () => {
    const token = sign({ sub: 'x' }, ec.privateKey, { header: { kid: undefined } });
    await expectCode(setup().verifier, `Bearer ${token}`, 'TOKEN_INVALID');
  });

  it('refuses a token without exp', async () => {
    await expectCode(setup().verifier, `Bearer ${sign({ exp: undefined }, ec.privateKey)}`, 'TOKEN_INVALID');
  });

  it('refuses a token without iat', async () => {
    await expectCode(setup().verifier, `Bearer ${sign({ iat: undefined }, ec.privateKey)}`, 'TOKEN_INVALID');
  });

  it('refuses a lifetime of 3600 s', async () => {
    await expectCode(setup().verifier, `Bearer ${sign({ iat: NOW, exp: NOW + 3600 }, ec.privateKey)}`, 'TOKEN_INVALID');
  });

  it('refuses iat 10 minutes in the future', async () => {
    await expectCode(setup().verifier, `Bearer ${sign({ iat: NOW + 600, exp: NOW + 900 }, ec.privateKey)}`, 'TOKEN_INVALID');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
    ['not a string', 42],
    ['with a newline', 'clerk\n1'],
    ['with a right-to-left override', 'clerk-\u202e1000'],
    ['with a zero-width space', 'clerk\u200b-1'],
    ['with a line separator', 'clerk\u20281'],
    ['with an unpaired surrogate', 'clerk-\ud800'],
  ])('refuses a sub that is %s, naming the claim', async (_, sub) => {
    const refused = await expectCode(setup().verifier, `Bearer ${sign({ sub }, ec.privateKey)}`, 'TOKEN_INVALID');
    expect(refused.detail).toMatch(/^sub /);
  });

  it('accepts a sub of printable text in any script, up to 128 characters', async () => {
    const { verifier } = setup();
    expect((await verifier.verify(`Bearer ${sign({ sub: '张三 窗口-3' }, ec.privateKey)}`)).actor).toBe('张三 窗口-3');
    expect((await verifier.verify(`Bearer ${sign({ sub: '窗'.repeat(128) }, ec.privateKey)}`)).actor).toHaveLength(128);
  });

  it.each([
    ['upper case', 'ZJ.Demo.Service-Hall'],
    ['with a space', 'zj demo'],
    ['with a slash', 'zj/../admin'],
    ['too long', `zj.${'a'.repeat(126)}`],
    ['not a string', 7],
    ['empty', ''],
  ])('refuses an iss that is %s without reading the directory', async (_, iss) => {
    const { directory, verifier } = setup();
    const find = jest.spyOn(directory, 'find');
    const refused = await expectCode(verifier, `Bearer ${sign({ iss }, ec.privateKey)}`, 'TOKEN_INVALID');
    expect(refused.detail).toMatch(/^iss /);
    expect(find).not.toHaveBeenCalled();
  });

  it('refuses a kid with control characters or longer than 256', async () => {
    for (const kid of ['ec1\u0000', 'k'.repeat(257)]) {
      const refused = await expectCode(setup().verifier, `Bearer ${sign({}, ec.privateKey, { kid })}`, 'TOKEN_INVALID');
      expect(refused.detail).toMatch(/^kid /);
    }
  });

  it('refuses a citizen token whose sub is not an ID number', async () => {
    const token = await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: 'not-an-id', now: () => NOW_MS });
    const refused = await expectCode(setup().verifier, `Bearer ${token}`, 'TOKEN_INVALID');
    expect(refused.detail).toBe("sub must be the citizen's ID number");
  });

  it('ignores jku, x5u, jwk and x5c: an attacker key embedded in the header does not verify', async () => {
    const header = {
      jwk: { ...attacker.publicKey.export({ format: 'jwk' }), kid: 'ec1' },
      jku: 'https://attacker.example/jwks.json',
      x5u: 'https://attacker.example/cert.pem',
      x5c: [Buffer.from('an attacker certificate').toString('base64')],
    };
    const { verifier } = setup();
    await expectCode(verifier, `Bearer ${sign({}, attacker.privateKey, { header })}`, 'TOKEN_INVALID');
    await expectCode(verifier, `Bearer ${sign({}, attacker.privateKey, { kid: 'attacker', header })}`, 'TOKEN_INVALID');
    // The same headers on a token the member really signed change nothing.
    expect(await verifier.verify(`Bearer ${sign({}, ec.privateKey, { header })}`)).toMatchObject({ memberId: MEMBER });
  });

  it('refuses alg RS256 under an EC key and ES256 under an RSA key', async () => {
    const { verifier } = setup();
    await expectCode(verifier, `Bearer ${sign({}, rsa.privateKey, { algorithm: 'RS256', kid: 'ec1' })}`, 'TOKEN_INVALID');
    await expectCode(verifier, `Bearer ${sign({}, ec.privateKey, { algorithm: 'ES256', kid: 'rsa1' })}`, 'TOKEN_INVALID');
  });

  it('refuses other asymmetric algorithms (PS256, ES384)', async () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const verifier = new TokenVerifier(new InMemoryKeyDirectory([member({ p384: p384.publicKey, rsa1: rsa.publicKey })]), { now: () => NOW_MS });
    await expectCode(verifier, `Bearer ${sign({}, p384.privateKey, { algorithm: 'ES384', kid: 'p384' })}`, 'TOKEN_INVALID');
    await expectCode(verifier, `Bearer ${sign({}, rsa.privateKey, { algorithm: 'PS256', kid: 'rsa1' })}`, 'TOKEN_INVALID');
  });

  it('refuses a crit header', async () => {
    await expectCode(setup().verifier, `Bearer ${sign({}, ec.privateKey, { header: { crit: ['b64'], b64: false } })}`, 'TOKEN_INVALID');
  });

  it('refuses crit even for an extension jose itself understands (b64: true)', async () => {
    // Signed by the member's real key: jose alone would accept `crit: ["b64"]` with b64 true.
    await expectCode(setup().verifier, `Bearer ${sign({}, ec.privateKey, { header: { crit: ['b64'], b64: true } })}`, 'TOKEN_INVALID');
  });

  it.each([
    ['a number', 7],
    ['empty', ''],
    ['an object', { kid: 'ec1' }],
  ])('refuses a kid that is %s', async (_, kid) => {
    const problem = await expectCode(setup().verifier, `Bearer ${sign({}, ec.privateKey, { header: { kid } })}`, 'TOKEN_INVALID');
    expect(problem.detail).toBe('kid is required');
  });

  it('gives a key of the wrong type the same answer as an unknown kid', async () => {
    const { verifier } = setup();
    const unknownKid = await refusal(verifier, `Bearer ${sign({}, ec.privateKey, { kid: 'ec9' })}`);
    const wrongType = await refusal(verifier, `Bearer ${sign({}, ec.privateKey, { algorithm: 'ES256', kid: 'rsa1' })}`);
    expect(wrongType.detail).toBe(unknownKid.detail);
  });

  it('refuses tokens under an RSA key below 2048 bits even when the directory holds one', async () => {
    // Registration refuses such keys (jwks.spec.ts); this is the second line if one got through.
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const verifier = new TokenVerifier(new InMemoryKeyDirectory([member({ weak: weak.publicKey })]), { now: () => NOW_MS });
    const problem = await expectCode(verifier, `Bearer ${sign({}, weak.privateKey, { algorithm: 'RS256', kid: 'weak' })}`, 'TOKEN_INVALID');
    expect(problem.detail).toBe('unknown signing key or invalid signature');
  });

  it('refuses a token that is not valid yet (nbf beyond the skew)', async () => {
    const problem = await expectCode(setup().verifier, `Bearer ${sign({ nbf: NOW + 120 }, ec.privateKey)}`, 'TOKEN_INVALID');
    expect(problem.detail).toMatch(/nbf/);
  });

  it('refuses a signature over other claims (a payload swapped under a valid signature)', async () => {
    const [header, , signature] = sign({}, ec.privateKey).split('.');
    const swapped = `${header}.${b64({ iss: MEMBER, sub: 'clerk-9999', aud: 'datarun', iat: NOW, exp: NOW + 300 })}.${signature}`;
    const problem = await expectCode(setup().verifier, `Bearer ${swapped}`, 'TOKEN_INVALID');
    expect(problem.detail).toBe('unknown signing key or invalid signature');
  });

  it('fails closed with 503 SERVICE_UNAVAILABLE when the directory cannot be read (a database outage is no verdict on the token), repeating nothing of the error', async () => {
    const verifier = new TokenVerifier({ find: () => Promise.reject(new Error('connection reset by 10.0.0.5:5432')) }, { now: () => NOW_MS });
    const problem = await expectCode(verifier, `Bearer ${sign({}, ec.privateKey)}`, 'SERVICE_UNAVAILABLE');
    expect(JSON.stringify(problem)).not.toMatch(/connection|10\.0\.0\.5/);
  });

  it('passes SERVICE_UNAVAILABLE from the directory through (still no access, but not the caller’s fault)', async () => {
    const verifier = new TokenVerifier({ find: () => Promise.reject(new Problem('SERVICE_UNAVAILABLE', 'member keys cannot be read')) }, { now: () => NOW_MS });
    await expectCode(verifier, `Bearer ${sign({}, ec.privateKey)}`, 'SERVICE_UNAVAILABLE');
  });
});

describe('TokenVerifier: cache', () => {
  it('answers a repeated token from the cache without verifying it again', async () => {
    const { directory, verifier } = setup();
    let finds = 0;
    const find = directory.find.bind(directory);
    directory.find = (id) => {
      finds++;
      return find(id);
    };
    const token = `Bearer ${sign({}, ec.privateKey)}`;
    const counter = countSignatureChecks();
    try {
      const first = await verifier.verify(token);
      const second = await verifier.verify(token);
      expect(second).toBe(first);
      expect(counter.calls).toBe(1);
      expect(finds).toBe(2); // the hit re-checks the key with the directory
    } finally {
      counter.restore();
    }
  });

  it('drops a cached token when the key is rotated or removed', async () => {
    const { directory, verifier } = setup();
    const token = `Bearer ${sign({}, ec.privateKey)}`;
    await verifier.verify(token);
    // Same kid, a new key: the cached token must not survive.
    const next = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    directory.set(member({ ec1: next.publicKey }));
    await expectCode(verifier, token, 'TOKEN_INVALID');
    // Key removed, then restored as a new KeyObject of the same key: verified afresh, accepted.
    directory.set(member({ other: next.publicKey }));
    await expectCode(verifier, token, 'TOKEN_INVALID');
    const counter = countSignatureChecks();
    try {
      directory.set(member({ ec1: createPublicKey(ec.publicKey.export({ type: 'spki', format: 'pem' })) }));
      expect(await verifier.verify(token)).toMatchObject({ memberId: MEMBER });
      expect(counter.calls).toBe(1);
    } finally {
      counter.restore();
    }
  });

  it('does not answer an expired token from the cache', async () => {
    let now = NOW_MS;
    const { verifier } = setup({ now: () => now });
    const token = `Bearer ${sign({ iat: NOW, exp: NOW + 300 }, ec.privateKey)}`;
    await verifier.verify(token);
    now += 361_000;
    await expectCode(verifier, token, 'TOKEN_EXPIRED');
  });

  it('keeps at most cacheSize tokens, least recently used out first', async () => {
    const { verifier } = setup({ cacheSize: 1 });
    const a = `Bearer ${sign({ sub: 'a' }, ec.privateKey)}`;
    const b = `Bearer ${sign({ sub: 'b' }, ec.privateKey)}`;
    const counter = countSignatureChecks();
    try {
      await verifier.verify(a);
      await verifier.verify(b);
      await verifier.verify(a);
      expect(counter.calls).toBe(3);
    } finally {
      counter.restore();
    }
  });

  it('never caches a failure', async () => {
    const { directory, verifier } = setup();
    directory.delete(MEMBER);
    const token = `Bearer ${sign({}, ec.privateKey)}`;
    await expectCode(verifier, token, 'TOKEN_INVALID');
    directory.set(member());
    expect(await verifier.verify(token)).toMatchObject({ memberId: MEMBER });
  });
});
