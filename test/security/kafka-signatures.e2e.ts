// Nothing unsigned changes state from Kafka (hardening item 3), on the real broker: a status is
// applied only when the request's recipient signed it; a dead letter is replayed only to the topic
// datarun (or the recipient's connector) sealed into it, and one planted by anyone else is listed as
// planted and never replayed; an older signed record replayed after a newer one rolls nothing back.
import { jest } from '@jest/globals';
import { KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import {
  DEAD_LETTER_TOPIC,
  deadLetter,
  DLQ_HEADERS,
  EVENT_TYPES,
  headerText,
  memberSealer,
  recordsTopic,
  requestTopic,
  sealedDeadLetter,
  signedEventMessage,
  signedRecordMessage,
  statusEvent,
  STATUS_TOPIC,
  topicSpec,
} from '@datarun/transfers';
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { eventually } from '../support/eventually.js';
import { uniqueName } from '../support/infra.js';
import type { TestMember } from '../support/members.js';
import { buildTransferWorld, openTransferCase, type TransferWorld } from '../support/transfers.js';

jest.setTimeout(120_000);

const PROBLEM = /^application\/problem\+json/;
const signerOf = (m: TestMember) => ({ member: m.id, kid: m.kid, privateKey: m.privateKey });

describe('Kafka signatures: statuses, dead letters, records', () => {
  let world: TransferWorld;
  let kafka: KafkaMessaging;
  /** Every message on the dead-letter topic, as the relay's recorder sees it. */
  const letters: KafkaMessage[] = [];
  /** Every message published to the water request topic after the test began (a replay would land here). */
  const waterRequests: KafkaMessage[] = [];
  let requests: Record<string, string>;
  let caseId: string;

  const rows = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await world.city.db.ownerQuery<T>(sql, params)).rows;
  const stateOf = async (requestId: string) =>
    (await rows<{ state: string }>('SELECT state FROM transfer_request WHERE request_id = $1', [requestId]))[0]?.state;
  const relay = () => world.relays[0];
  const listDeadLetters = async (topic: string) =>
    (
      await relay()
        .http.get(`/v1/ops/dead-letters?topic=${encodeURIComponent(topic)}&limit=1000`)
        .set('authorization', await world.city.admin.auth('admin-1'))
        .expect(200)
    ).body.items as Array<{ id: string; key: string | null; reason: string; planted: boolean; sealedBy: string | null; plantedReason: string | null }>;
  const replay = async (id: string) =>
    relay()
      .http.post(`/v1/ops/dead-letters/${id}/replay`)
      .set('authorization', await world.city.admin.auth('admin-1'));
  const status = (member: TestMember, requestId: string, state: 'accepted' | 'completed', utility = 'water', as = member.id, time?: Date): Promise<Message> =>
    signedEventMessage({
      time,
      member: as,
      kid: member.kid,
      privateKey: member.privateKey,
      topic: STATUS_TOPIC,
      type: EVENT_TYPES.status,
      key: requestId,
      subject: requestId,
      data: { requestId, utility, state, reference: `${utility}-ref` },
    });

  beforeAll(async () => {
    // The relay runs, the connectors do not: the requests stay published until a status moves them.
    world = await buildTransferWorld({ connectors: [] });
    kafka = new KafkaMessaging(world.config.kafka);
    await kafka.ensureTopics([topicSpec(DEAD_LETTER_TOPIC, 1), topicSpec(requestTopic('water', 'transfer'), 1)]);
    await kafka.consume({
      groupId: uniqueName('test-dlq'),
      topics: [DEAD_LETTER_TOPIC],
      fromBeginning: true,
      onMessage: async ({ message }) => void letters.push(message),
    });

    ({ caseId } = await openTransferCase(world, 'signed'));
    await world.city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    const found = await eventually(
      'three published requests',
      () =>
        rows<{ utility: string; request_id: string; state: string }>('SELECT utility, request_id, state FROM transfer_request WHERE case_id = $1', [caseId]),
      { until: (r) => r.length === 3 && r.every((x) => x.state === 'published') },
    );
    requests = Object.fromEntries(found.map((r) => [r.utility, r.request_id]));
    // From here on, only a replay publishes to the water request topic.
    await kafka.consume({
      groupId: uniqueName('test-water'),
      topics: [requestTopic('water', 'transfer')],
      fromBeginning: false,
      onMessage: async ({ message }) => void waterRequests.push(message),
    });
  });

  afterAll(async () => {
    await kafka?.close();
    await world?.close();
  });

  it('dead-letters an unsigned or wrongly signed status with STATUS_SIGNATURE_INVALID and changes nothing; the signed one applies', async () => {
    const { water, electricity } = world.utilities;
    const requestId = requests.water;
    const unsigned = toKafkaMessage(statusEvent(water.id, { requestId, utility: 'water', state: 'completed', reference: 'forged' }), requestId);
    const sent = {
      unsigned,
      // Another member signs, as itself: it is not the water company.
      asItself: await status(electricity, requestId, 'completed', 'water'),
      // Another member's key under the water company's name.
      asWater: await status(electricity, requestId, 'completed', 'water', water.id),
      // The water company's genuine status of another request, moved to this one's key.
      moved: { ...(await status(water, requests.gas, 'completed', 'gas', water.id)), key: requestId },
    };
    await kafka.publish(STATUS_TOPIC, Object.values(sent));
    const refused = await eventually(
      'four status dead letters',
      () => letters.filter((l) => headerText(l.headers, DLQ_HEADERS.topic) === STATUS_TOPIC && l.key?.toString() === requestId),
      { until: (found) => found.length >= 4 },
    );
    const reasons = refused.map((l) => headerText(l.headers, DLQ_HEADERS.reason));
    expect(reasons).toEqual([
      expect.stringMatching(/^STATUS_SIGNATURE_INVALID: unsigned: no datarun-signature header/),
      expect.stringMatching(
        new RegExp(`^STATUS_SIGNATURE_INVALID: ce_source "${electricity.id}" is not "${water.id}", the recipient of request ${requestId}$`),
      ),
      expect.stringMatching(new RegExp(`^STATUS_SIGNATURE_INVALID: kid "${electricity.kid}" is not a registered key of "${water.id}"$`)),
      // The body names the gas request: the gas company must sign it, whoever's key it carries.
      expect.stringMatching(
        new RegExp(`^STATUS_SIGNATURE_INVALID: ce_source "${water.id}" is not "${world.utilities.gas.id}", the recipient of request ${requests.gas}$`),
      ),
    ]);
    expect(refused.every((l) => headerText(l.headers, DLQ_HEADERS.by) === 'relay')).toBe(true);
    expect(await stateOf(requestId)).toBe('published');
    expect(await stateOf(requests.gas)).toBe('published');
    expect(await rows(`SELECT 1 FROM audit_event WHERE action = 'transfer.status'`)).toEqual([]);

    // The water company's own signed status applies, audited as that member.
    await kafka.publish(STATUS_TOPIC, [await status(water, requestId, 'completed')]);
    await eventually('the signed status applied', () => stateOf(requestId), { until: (state) => state === 'completed' });
    expect(await rows(`SELECT member_id, object_ref FROM audit_event WHERE action = 'transfer.status'`)).toEqual([
      { member_id: water.id, object_ref: `transfer:${requestId}` },
    ]);
  });

  it('refuses a status signed before its request was re-sent: replaying it cannot undo the resend', async () => {
    const { electricity } = world.utilities;
    const requestId = requests.electricity;
    // The electricity company's genuine status, signed ten minutes ago: it applies, the request was never re-sent.
    const old = await status(electricity, requestId, 'completed', 'electricity', electricity.id, new Date(Date.now() - 10 * 60_000));
    await kafka.publish(STATUS_TOPIC, [old]);
    await eventually('the old status applied', () => stateOf(requestId), { until: (state) => state === 'completed' });

    await world.city.gateway.http
      .post(`/v1/cases/${caseId}/transfers/${requestId}/resend`)
      .set('authorization', await world.city.hall.auth())
      .expect(200);
    await eventually('the request sent again', () => stateOf(requestId), { until: (state) => state === 'published' });
    // The same signed status, replayed: it answers the first send, not this one.
    await kafka.publish(STATUS_TOPIC, [old]);
    const refused = await eventually('the replayed status dead-lettered', () =>
      letters.find((l) => l.key?.toString() === requestId && /was sent again/.test(headerText(l.headers, DLQ_HEADERS.reason) ?? '')),
    );
    expect(headerText(refused.headers, DLQ_HEADERS.reason)).toMatch(
      new RegExp(`^STATUS_SIGNATURE_INVALID: signed at .+, before request ${requestId} was sent again at .+: an old status does not answer the new send$`),
    );
    expect(await stateOf(requestId)).toBe('published');
    // A status signed now answers the new send.
    await kafka.publish(STATUS_TOPIC, [await status(electricity, requestId, 'completed', 'electricity')]);
    await eventually('the new status applied', () => stateOf(requestId), { until: (state) => state === 'completed' });
  });

  it('replays a dead letter only to the topic datarun sealed into it; one naming another topic, or planted, is listed as planted and refused', async () => {
    const { water, gas } = world.utilities;
    const genuine = await eventually('a sealed status dead letter', () =>
      letters.find((l) => headerText(l.headers, DLQ_HEADERS.topic) === STATUS_TOPIC && headerText(l.headers, DLQ_HEADERS.seal) !== undefined),
    );
    const tag = uniqueName('dlq');
    const headers = (l: KafkaMessage): IHeaders => ({ ...l.headers, ce_id: `${tag}-${headerText(l.headers, 'ce_id')}` });
    const waterTopic = requestTopic('water', 'transfer');
    const original = (key: string) => ({ topic: waterTopic, key, value: Buffer.from('{"requestId":"x"}'), headers: { ce_id: `${tag}-${key}` } });
    await kafka.publish(DEAD_LETTER_TOPIC, [
      // datarun's own dead letter, its header changed to name the water request topic: the seal no longer holds.
      { key: `${tag}-retargeted`, value: genuine.value, headers: { ...headers(genuine), [DLQ_HEADERS.topic]: waterTopic } },
      // No seal at all.
      deadLetter(original(`${tag}-planted`), 'please replay me', 'relay'),
      // Sealed by the water company's connector, for its own request topic: genuine.
      await sealedDeadLetter(original(`${tag}-connector`), 'MATERIAL_HASH_MISMATCH', `datarun.connector.${water.id}`, memberSealer(signerOf(water))),
      // Sealed by the gas company, for the water company's topic: not a topic it receives on.
      await sealedDeadLetter(original(`${tag}-foreign`), 'MATERIAL_HASH_MISMATCH', `datarun.connector.${gas.id}`, memberSealer(signerOf(gas))),
    ]);
    const listed = await eventually(
      'four dead letters of the water topic',
      async () => (await listDeadLetters(waterTopic)).filter((d) => d.key?.startsWith(tag)),
      {
        until: (found) => found.length === 4,
      },
    );
    const byKey = Object.fromEntries(listed.map((d) => [d.key!.slice(tag.length + 1), d]));
    expect(byKey.retargeted).toMatchObject({ planted: true, sealedBy: null, plantedReason: expect.stringMatching(/datarun's seal does not verify/) });
    expect(byKey.planted).toMatchObject({ planted: true, sealedBy: null, plantedReason: 'no datarun-dlq-seal header' });
    expect(byKey.connector).toMatchObject({ planted: false, sealedBy: water.id, plantedReason: null });
    expect(byKey.foreign).toMatchObject({
      planted: true,
      plantedReason: expect.stringMatching(new RegExp(`sealed by "${gas.id}", which receives no requests on "${waterTopic}"`)),
    });

    for (const name of ['retargeted', 'planted', 'foreign']) {
      const res = await replay(byKey[name].id);
      expect({ name, status: res.status }).toEqual({ name, status: 409 });
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.code).toBe('DEAD_LETTER_PLANTED');
    }
    const refusedIds = ['retargeted', 'planted', 'foreign'].map((n) => byKey[n].id);
    expect(await rows('SELECT replays FROM dead_letter WHERE id = ANY($1::uuid[])', [refusedIds])).toEqual([{ replays: 0 }, { replays: 0 }, { replays: 0 }]);
    expect(await rows(`SELECT 1 FROM audit_event WHERE action = 'dead-letter.replayed'`)).toEqual([]);

    // The genuine ones replay, each to the topic its seal recorded.
    const connectorReplay = await replay(byKey.connector.id);
    expect(connectorReplay.status).toBe(200);
    expect(connectorReplay.body).toMatchObject({ topic: waterTopic, replays: 1 });
    const ownId = (await listDeadLetters(STATUS_TOPIC)).find((d) => d.sealedBy === 'datarun' && !d.planted)!.id;
    expect((await replay(ownId)).body).toMatchObject({ topic: STATUS_TOPIC, replays: 1, sealedBy: 'datarun' });
    // Only the connector's genuine dead letter reached the water request topic.
    await eventually('the replay on the water topic', () => waterRequests.filter((m) => m.key?.toString().startsWith(tag)), { until: (m) => m.length >= 1 });
    expect(waterRequests.map((m) => m.key?.toString()).filter((k) => k?.startsWith(tag))).toEqual([`${tag}-connector`]);
  });

  it('refuses an older signed record replayed after a newer one, and skips the newer one replayed: the replica keeps the newest', async () => {
    const dept = world.city.departments.household;
    const person = world.city.people[5];
    const stored = async () =>
      (await rows<{ data: Record<string, unknown> }>(`SELECT data FROM source_record WHERE source_id = 'household' AND subject_key = $1`, [person.idNumber]))[0]
        ?.data;
    const current = (await stored())!;
    const record = (address: string, time: Date, id: string) =>
      signedRecordMessage({
        member: dept.id,
        kid: dept.kid,
        privateKey: dept.privateKey,
        source: 'household',
        subject: person.idNumber,
        record: { ...current, address },
        id,
        time,
      });
    const tag = uniqueName('rec');
    const older = await record('旧地址 1 号', new Date(Date.now() - 60_000), `${tag}-old`);
    const newer = await record('新地址 2 号', new Date(Date.now() - 1_000), `${tag}-new`);

    // The relay makes the records topic of the replica source on its own; publish once it exists.
    await eventually('the household records topic', async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        return (await admin.listTopics()).includes(kafka.physical(recordsTopic('household')));
      } finally {
        await admin.disconnect();
      }
    });
    await kafka.publish(recordsTopic('household'), [newer]);
    await eventually('the newer record stored', stored, { until: (data) => data?.address === '新地址 2 号' });
    // The older record, signed before the newer one, comes (again) afterwards.
    await kafka.publish(recordsTopic('household'), [older]);
    const refused = await eventually('the older record dead-lettered', () =>
      letters.find((l) => headerText(l.headers, 'ce_id') === `${tag}-old` && headerText(l.headers, DLQ_HEADERS.topic) === recordsTopic('household')),
    );
    expect(headerText(refused.headers, DLQ_HEADERS.reason)).toMatch(
      /^the record was signed at .+, not after the newest record of its subject ingested from datarun\.records\.household\.v1 \(.+\): an older record does not replace a newer one$/,
    );
    expect((await stored())?.address).toBe('新地址 2 号');

    // The department pushes a newer version over HTTP; the newest record from Kafka, replayed again,
    // is skipped (it was stored once), not stored over the push.
    await world.city.registry.http
      .put('/v1/sources/household/records')
      .set('authorization', await dept.auth())
      .send({ records: [{ ...current, address: '第三地址 3 号' }] })
      .expect(200);
    const duplicates = async () => {
      const text = (await relay().http.get('/metrics').expect(200)).text;
      return Number(/^datarun_relay_records_total\{outcome="duplicate"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    };
    const before = await duplicates();
    await kafka.publish(recordsTopic('household'), [newer]);
    await eventually('the replayed record skipped as a duplicate', duplicates, { until: (n) => n === before + 1 });
    expect((await stored())?.address).toBe('第三地址 3 号');
    expect(letters.filter((l) => headerText(l.headers, 'ce_id') === `${tag}-new`)).toEqual([]);
  });
});
