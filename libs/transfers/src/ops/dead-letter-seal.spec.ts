import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { InMemoryKeyDirectory, KeyRing } from '@datarun/auth';
import type { MemberKeyDirectory, Recipient, RecipientDirectory } from '@datarun/registry';
import type { IHeaders, Message } from '@datarun/messaging';
import { deadLetter, DLQ_HEADERS, memberSealer, type OriginalMessage, sealedDeadLetter } from '../dead-letters.js';
import { requestTopic, STATUS_TOPIC } from '../topics.js';
import { DeadLetterSeal } from './dead-letter-seal.js';

const WATER = 'zj.test.water';
const GAS = 'zj.test.gas';
const water = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const gas = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const members = new InMemoryKeyDirectory([
  { memberId: WATER, kind: 'utility', keys: new Map([['w1', water.publicKey]]) },
  { memberId: GAS, kind: 'utility', keys: new Map([['g1', gas.publicKey]]) },
]);
const registered = new Map<string, Recipient>(
  [
    [WATER, 'water'],
    [GAS, 'gas'],
  ].map(([memberId, utilityKind]) => [
    memberId,
    { memberId, name: memberId, state: 'active', delivery: 'kafka', requests: ['transfer', 'discount'], utilityKind } as Recipient,
  ]),
);
const recipients = { of: async (id: string) => registered.get(id) } as unknown as RecipientDirectory;
const sealOf = (key = randomBytes(32)) => new DeadLetterSeal(new KeyRing({ materialLinkKey: key }), members as unknown as MemberKeyDirectory, recipients);
const seal = sealOf();

const original: OriginalMessage = {
  topic: STATUS_TOPIC,
  key: 'req-1',
  value: Buffer.from('{"requestId":"req-1"}'),
  headers: { ce_id: 'evt-1', 'datarun-signature': 'x..y' },
};
/** A message as the recorder reads it from the topic: Buffers for key, value and headers. */
const received = (m: Message) => ({
  key: m.key === null || m.key === undefined ? null : Buffer.from(m.key),
  value: m.value === null || m.value === undefined ? null : Buffer.from(m.value),
  headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))])) as IHeaders,
});
const withHeader = (m: Message, name: string, value: string): Message => ({ ...m, headers: { ...m.headers, [name]: value } });

describe('dead-letter seals', () => {
  it("accepts datarun's own seal and refuses it from another deployment's key", async () => {
    const letter = await seal.letter(original, 'STATUS_SIGNATURE_INVALID: unsigned', 'relay');
    expect(await seal.check(received(letter))).toEqual({ sealed: true, by: 'datarun' });
    expect(await sealOf().check(received(letter))).toMatchObject({ sealed: false, reason: expect.stringMatching(/does not verify/) });
  });

  it.each([
    ['the original topic', (m: Message) => withHeader(m, DLQ_HEADERS.topic, requestTopic('water', 'transfer'))],
    ['the reason', (m: Message) => withHeader(m, DLQ_HEADERS.reason, 'fine, replay it')],
    ['who gave up', (m: Message) => withHeader(m, DLQ_HEADERS.by, `datarun.connector.${WATER}`)],
    ['the time', (m: Message) => withHeader(m, DLQ_HEADERS.at, new Date(0).toISOString())],
    ['an original header', (m: Message) => withHeader(m, 'ce_id', 'evt-2')],
    ['an added header', (m: Message) => withHeader(m, 'x-extra', '1')],
    ['the key', (m: Message) => ({ ...m, key: 'req-2' })],
    ['the value', (m: Message) => ({ ...m, value: Buffer.from('{"requestId":"req-2"}') })],
  ])('breaks when %s changes', async (_, change) => {
    const letter = await seal.letter(original, 'STATUS_SIGNATURE_INVALID: unsigned', 'relay');
    expect(await seal.check(received(change(letter)))).toMatchObject({ sealed: false });
  });

  it('calls a dead letter without a seal, or with a forged one, planted', async () => {
    expect(await seal.check(received(deadLetter(original, 'r', 'relay')))).toEqual({ sealed: false, reason: 'no datarun-dlq-seal header' });
    const forged = withHeader(deadLetter(original, 'r', 'relay'), DLQ_HEADERS.seal, 'eyJhbGciOiJub25lIn0..');
    expect(await seal.check(received(forged))).toMatchObject({ sealed: false });
  });

  it("accepts a connector's seal only for a request topic of the kind its member receives", async () => {
    const mine = { ...original, topic: requestTopic('water', 'transfer') };
    const byWater = await sealedDeadLetter(
      mine,
      'MATERIAL_HASH_MISMATCH',
      `datarun.connector.${WATER}`,
      memberSealer({ member: WATER, kid: 'w1', privateKey: water.privateKey }),
    );
    expect(await seal.check(received(byWater))).toEqual({ sealed: true, by: WATER });
    const byGas = await sealedDeadLetter(
      mine,
      'MATERIAL_HASH_MISMATCH',
      `datarun.connector.${GAS}`,
      memberSealer({ member: GAS, kid: 'g1', privateKey: gas.privateKey }),
    );
    expect(await seal.check(received(byGas))).toEqual({ sealed: false, reason: `sealed by "${GAS}", which receives no requests on "${mine.topic}"` });
    // The status topic is no connector's to dead-letter from.
    const status = await sealedDeadLetter(
      original,
      'x',
      `datarun.connector.${WATER}`,
      memberSealer({ member: WATER, kid: 'w1', privateKey: water.privateKey }),
    );
    expect(await seal.check(received(status))).toMatchObject({ sealed: false });
    // Another member's key under the water company's name.
    const borrowed = await sealedDeadLetter(mine, 'x', `datarun.connector.${WATER}`, memberSealer({ member: WATER, kid: 'w1', privateKey: gas.privateKey }));
    expect(await seal.check(received(borrowed))).toMatchObject({ sealed: false, reason: expect.stringMatching(/does not verify/) });
  });
});
