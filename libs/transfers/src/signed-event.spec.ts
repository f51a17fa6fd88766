import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { InMemoryKeyDirectory, type MemberKeys } from '@datarun/auth';
import { fromKafkaMessage } from '@datarun/messaging';
import { type EventBinding, RECORD_EVENT_TYPE, SIGNATURE_HEADER, signedRecordMessage, signEvent, verifyEventSignature } from './signed-event.js';

const DEPT = 'zj.test.gongan';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const member: MemberKeys = {
  memberId: DEPT,
  kind: 'department',
  keys: new Map<string, KeyObject>([
    ['ec1', ec.publicKey],
    ['rsa1', rsa.publicKey],
  ]),
};
const directory = new InMemoryKeyDirectory([member, { memberId: 'zj.test.other', kind: 'department', keys: new Map([['other1', stranger.publicKey]]) }]);
const body = Buffer.from(JSON.stringify({ idNumber: '110101199003074514', name: '张三' }));
const TOPIC = 'datarun.records.household.v1';
const SUBJECT = '110101199003074514';
const NOW = new Date('2026-12-07T03:00:00.000Z');
const binding = (over: Partial<EventBinding> = {}): EventBinding => ({
  topic: TOPIC,
  source: DEPT,
  subject: SUBJECT,
  time: '2026-12-07T02:59:00.000Z',
  ...over,
});
const bound = (over: Partial<EventBinding> = {}) => {
  const b = binding(over);
  return { 'datarun-topic': b.topic, 'datarun-source': b.source, 'datarun-subject': b.subject, 'datarun-time': b.time };
};
/** What datarun signs: a body bound to topic, member, subject and time. */
const signRecordBody = (bytes: Buffer | string, key: KeyObject | string, kid: string, over: Partial<EventBinding> = {}) =>
  signEvent(bytes, binding(over), key, kid);

const check = (signature: string | undefined, bytes = body, memberId = DEPT, expected: { topic?: string; subject?: string } = {}) =>
  verifyEventSignature(bytes, signature, { topic: expected.topic ?? TOPIC, source: memberId, subject: expected.subject ?? SUBJECT }, directory, NOW);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A detached JWS with any header (the bound names added unless given), signed as given (for signatures signEvent would never make). */
function forge(header: Record<string, unknown>, key: KeyObject, dsaEncoding?: 'der' | 'ieee-p1363'): string {
  const encoded = b64({ ...bound(), ...header });
  const input = Buffer.from(`${encoded}.${body.toString('base64url')}`);
  return `${encoded}..${sign('sha256', input, dsaEncoding ? { key, dsaEncoding } : key).toString('base64url')}`;
}

describe('event signatures (detached JWS, RFC 7515 Appendix F)', () => {
  it.each([
    ['ES256', ec.privateKey, 'ec1'],
    ['RS256', rsa.privateKey, 'rsa1'],
  ])('%s: a body signed with a registered key verifies, and names the member', async (alg, key, kid) => {
    const signature = await signRecordBody(body, key, kid);
    expect(signature).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(signature.split('.')[0], 'base64url').toString())).toEqual({ alg, kid, ...bound() });
    const result = await check(signature);
    expect(result).toEqual({ ok: true, member, kid, signedAt: new Date(binding().time) });
  });

  it('accepts a PEM private key and a string body (the same bytes)', async () => {
    const pem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect((await check(await signRecordBody(body.toString('utf8'), pem, 'ec1'))).ok).toBe(true);
  });

  it.each([
    ['no header at all', undefined, /^unsigned: no datarun-signature header/],
    ['an empty header', '', /^unsigned/],
    ['an attached (not detached) JWS', `${b64({ alg: 'ES256', kid: 'ec1' })}.${body.toString('base64url')}.c2ln`, /not a detached JWS/],
    ['garbage', 'not a jws', /not a detached JWS/],
    ['a header that is not JSON', `bm90IGpzb24..c2ln`, /protected header is not a JSON object/],
    ['alg none', `${b64({ alg: 'none', kid: 'ec1' })}..c2ln`, /alg must be RS256 or ES256/],
    ['alg HS256', `${b64({ alg: 'HS256', kid: 'ec1' })}..c2ln`, /alg must be RS256 or ES256/],
    ['no kid', `${b64({ alg: 'ES256' })}..c2ln`, /names no kid/],
    ['an absurdly long value', `${'a'.repeat(9000)}..c2ln`, /not a detached JWS/],
  ])('refuses %s', async (_, signature, reason) => {
    const result = await check(signature);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('refuses a body changed by one byte after signing (even insignificant JSON whitespace)', async () => {
    const signature = await signRecordBody(body, ec.privateKey, 'ec1');
    const spaced = Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1));
    for (const changed of [Buffer.from(body.toString().replace('张三', '李四')), spaced]) {
      const result = await check(signature, changed);
      expect(!result.ok && result.reason).toMatch(/signature does not verify with key "ec1" of "zj.test.gongan"/);
    }
  });

  it("refuses another member's key, whether it names its own kid or the member's", async () => {
    const ownKid = await check(await signRecordBody(body, stranger.privateKey, 'other1'));
    expect(!ownKid.ok && ownKid.reason).toBe('kid "other1" is not a registered key of "zj.test.gongan"');
    const borrowedKid = await check(await signRecordBody(body, stranger.privateKey, 'ec1'));
    expect(!borrowedKid.ok && borrowedKid.reason).toMatch(/signature does not verify with key "ec1"/);
  });

  it('refuses a ce_source that is not a member', async () => {
    const result = await check(await signRecordBody(body, ec.privateKey, 'ec1', { source: 'zj.nobody' }), body, 'zj.nobody');
    expect(!result.ok && result.reason).toBe('ce_source "zj.nobody" is not a registered member');
  });

  it('takes the algorithm from the registered key, not from the header', async () => {
    // An RSA key's kid with alg ES256 (or the reverse) is refused before any verification.
    const result = await check(forge({ alg: 'ES256', kid: 'rsa1' }, ec.privateKey, 'ieee-p1363'));
    expect(!result.ok && result.reason).toBe('alg ES256 does not fit key "rsa1" of "zj.test.gongan"');
  });

  it('refuses crit and b64 (RFC 7797 unencoded payload) header parameters', async () => {
    for (const extra of [{ crit: ['exp'], exp: 1 }, { b64: false, crit: ['b64'] }, { b64: true }]) {
      const result = await check(forge({ alg: 'ES256', kid: 'ec1', ...extra }, ec.privateKey, 'ieee-p1363'));
      expect(!result.ok && result.reason).toMatch(/crit and b64 header parameters are not supported/);
    }
  });

  it('wants the JWS signature encoding for ES256 (r||s), not DER', async () => {
    expect((await check(forge({ alg: 'ES256', kid: 'ec1' }, ec.privateKey, 'ieee-p1363'))).ok).toBe(true);
    const der = await check(forge({ alg: 'ES256', kid: 'ec1' }, ec.privateKey, 'der'));
    expect(der.ok).toBe(false);
  });

  it('refuses to sign with a public key', async () => {
    await expect(signRecordBody(body, ec.publicKey, 'ec1')).rejects.toThrow(/private key is required/);
  });

  it('ignores a key embedded in the header (jwk, jku, x5c): only the registered key counts', async () => {
    const embedded = { jwk: { ...stranger.publicKey.export({ format: 'jwk' }), kid: 'ec1' }, jku: 'https://attacker.example/jwks.json', x5c: ['YXR0YWNrZXI='] };
    const forged = await check(forge({ alg: 'ES256', kid: 'ec1', ...embedded }, stranger.privateKey, 'ieee-p1363'));
    expect(!forged.ok && forged.reason).toMatch(/signature does not verify with key "ec1"/);
    // The same members on a body the department really signed change nothing.
    expect((await check(forge({ alg: 'ES256', kid: 'ec1', ...embedded }, ec.privateKey, 'ieee-p1363'))).ok).toBe(true);
  });

  it('refuses a signature by an RSA key below 2048 bits even when the directory holds one', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const holding = new InMemoryKeyDirectory([{ memberId: DEPT, kind: 'department', keys: new Map([['weak', weak.publicKey]]) }]);
    const result = await verifyEventSignature(
      body,
      forge({ alg: 'RS256', kid: 'weak' }, weak.privateKey),
      { topic: TOPIC, source: DEPT, subject: SUBJECT },
      holding,
      NOW,
    );
    expect(!result.ok && result.reason).toBe('alg RS256 does not fit key "weak" of "zj.test.gongan"');
  });

  it('refuses a signature made for an unencoded payload (RFC 7797), even by the registered key', async () => {
    // What a b64:false signature covers: the raw body bytes after the header, not their base64url.
    const header = b64({ alg: 'ES256', kid: 'ec1', b64: false, crit: ['b64'], ...bound() });
    const raw = sign('sha256', Buffer.concat([Buffer.from(`${header}.`), body]), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
    const result = await check(`${header}..${raw.toString('base64url')}`);
    expect(!result.ok && result.reason).toMatch(/crit and b64 header parameters are not supported/);
  });

  it('builds a record message: CloudEvent in binary mode, keyed by subject, signed over the exact value', async () => {
    const record = { idNumber: '110101199003074514', name: '张三' };
    const time = new Date('2026-12-07T02:58:00.000Z');
    const message = await signedRecordMessage({
      member: DEPT,
      kid: 'ec1',
      privateKey: ec.privateKey,
      source: 'household',
      subject: record.idNumber,
      record,
      id: 'evt-1',
      time,
    });
    expect(message.key).toBe(record.idNumber);
    const headers = message.headers as Record<string, string>;
    expect(headers).toMatchObject({ ce_source: DEPT, ce_type: RECORD_EVENT_TYPE, ce_id: 'evt-1', ce_specversion: '1.0', ce_time: time.toISOString() });
    const value = Buffer.from(message.value as string);
    expect(fromKafkaMessage({ value, headers }).data).toEqual(record);
    expect(await check(headers[SIGNATURE_HEADER], value)).toMatchObject({ ok: true, signedAt: time });
  });

  it.each([
    ['another topic', { topic: 'datarun.records.marriage.v1' }, /signed for topic "datarun.records.household.v1", not "datarun.records.marriage.v1"/],
    ['another subject (Kafka key)', { subject: '110101199003070000' }, /signed for subject "110101199003074514", not "110101199003070000"/],
  ])('refuses a signed body moved to %s', async (_, expected, reason) => {
    const result = await check(await signRecordBody(body, ec.privateKey, 'ec1'), body, DEPT, expected);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('refuses a signature bound to another sender, even by the key of the member it names', async () => {
    const result = await check(await signRecordBody(body, ec.privateKey, 'ec1', { source: 'zj.test.other' }));
    expect(!result.ok && result.reason).toMatch(/signed for source "zj.test.other", not "zj.test.gongan"/);
  });

  it.each([
    ['no bound time', { 'datarun-time': undefined }, /binds no ISO 8601 UTC time/],
    ['a time that is not ISO 8601 UTC', { 'datarun-time': '7 Dec 2026' }, /binds no ISO 8601 UTC time/],
    ['a time far ahead of this clock', { 'datarun-time': '2026-12-07T03:10:00.000Z' }, /ahead of this clock/],
    ['no bound topic', { 'datarun-topic': undefined }, /binds no topic/],
  ])('refuses %s', async (_, header, reason) => {
    const result = await check(forge({ alg: 'ES256', kid: 'ec1', ...header }, ec.privateKey, 'ieee-p1363'));
    expect(!result.ok && result.reason).toMatch(reason);
  });
});
