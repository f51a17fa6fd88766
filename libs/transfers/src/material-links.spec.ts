import { randomBytes } from 'node:crypto';
import { isMaterialLinkOf, MaterialLinks } from './material-links.js';

const links = new MaterialLinks(randomBytes(32), 'http://gateway.example');
const claims = {
  materialId: '0b6f2f0e-9c1d-4f7e-8a3b-2c1d0e9f8a7b',
  requestId: '6f1d3a52-4a8e-4c61-9d7a-3e2b1c0d9e8f',
  recipient: 'water',
  expiresAt: Math.floor(Date.now() / 1000) + 60,
};
const queryOf = (url: string) => Object.fromEntries(new URL(url).searchParams);

describe('MaterialLinks', () => {
  it('accepts a link as issued', () => {
    const url = links.url(claims);
    expect(url.startsWith(`http://gateway.example/v1/materials/${claims.materialId}?`)).toBe(true);
    expect(links.check(claims.materialId, queryOf(url))).toEqual(claims);
  });

  it.each([
    ['another recipient', { to: 'gas' }],
    ['another request', { req: '00000000-0000-4000-8000-000000000000' }],
    ['a later expiry', { exp: String(claims.expiresAt + 3600) }],
    ['a forged signature', { sig: 'A'.repeat(43) }],
  ])('refuses %s as LINK_INVALID', (_, change) => {
    const query = { ...queryOf(links.url(claims)), ...change };
    expect(() => links.check(claims.materialId, query)).toThrow(expect.objectContaining({ code: 'LINK_INVALID' }));
  });

  it('refuses another material, a missing part, and a key it did not sign with', () => {
    const query = queryOf(links.url(claims));
    expect(() => links.check('1b6f2f0e-9c1d-4f7e-8a3b-2c1d0e9f8a7b', query)).toThrow(expect.objectContaining({ code: 'LINK_INVALID' }));
    expect(() => links.check(claims.materialId, { ...query, sig: undefined })).toThrow(expect.objectContaining({ code: 'LINK_INVALID' }));
    expect(() => new MaterialLinks(randomBytes(32), 'http://x').check(claims.materialId, query)).toThrow(expect.objectContaining({ code: 'LINK_INVALID' }));
  });

  it('refuses a genuine link after its time as LINK_EXPIRED', () => {
    const past = { ...claims, expiresAt: Math.floor(Date.now() / 1000) - 1 };
    expect(() => links.check(claims.materialId, queryOf(links.url(past)))).toThrow(expect.objectContaining({ code: 'LINK_EXPIRED' }));
  });

  it('refuses a short key', () => {
    expect(() => new MaterialLinks(randomBytes(16), 'http://x')).toThrow(/at least 32 bytes/);
  });
});

describe('isMaterialLinkOf: what a connector may fetch', () => {
  const gateway = 'https://gateway.example/datarun';
  const issued = new MaterialLinks(randomBytes(32), gateway).url(claims);

  it('accepts a link the relay issued for that gateway', () => {
    expect(isMaterialLinkOf(issued, gateway)).toBe(true);
  });

  it.each([
    ['another host', issued.replace('gateway.example', 'gateway.example.evil')],
    ['a loopback address', issued.replace('https://gateway.example', 'http://127.0.0.1:6379')],
    ['another scheme', issued.replace('https:', 'http:')],
    ['another port', issued.replace('gateway.example', 'gateway.example:8443')],
    ['credentials', issued.replace('https://', 'https://user:pw@')],
    ['another path', issued.replace('/v1/materials/', '/v1/admin/')],
    ['a path that climbs out', issued.replace('/v1/materials/', '/v1/materials/../../internal/')],
    ['a fragment', `${issued}#x`],
    ['no URL at all', 'not a url'],
  ])('refuses %s', (_, url) => {
    expect(isMaterialLinkOf(url, gateway)).toBe(false);
  });
});
