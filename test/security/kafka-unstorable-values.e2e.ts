// Values PostgreSQL cannot store are one message's fault, not a stalled consumer (issue 17, item 2),
// on the real broker: a signed status whose reference holds U+0000 (text cannot hold it) is
// dead-lettered with a clear reason while the good status beside it in the batch applies, and a
// dead letter whose reason and headers hold one is still recorded for the operator, as one never
// replayed. (A record holding one, which jsonb cannot store, is in test/e2e/record-ingest.e2e.ts.)
import { jest } from '@jest/globals';
import { KafkaMessaging } from '@datarun/messaging';
import {
  DEAD_LETTER_TOPIC,
  deadLetter,
  DLQ_HEADERS,
  EVENT_TYPES,
  headerText,
  signedEventMessage,
  STATUS_TOPIC,
  type TransferStatus,
  topicSpec,
} from '@datarun/transfers';
import type { KafkaMessage, Message } from 'kafkajs';
import { eventually } from '../support/eventually.js';
import { uniqueName } from '../support/infra.js';
import type { TestMember } from '../support/members.js';
import { buildTransferWorld, openTransferCase, type TransferWorld } from '../support/transfers.js';

jest.setTimeout(120_000);

describe('values PostgreSQL cannot store, consumed from Kafka', () => {
  let world: TransferWorld;
  let kafka: KafkaMessaging;
  /** Every message on the dead-letter topic. */
  const letters: KafkaMessage[] = [];
  let requests: Record<string, string>;

  const rows = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await world.city.db.ownerQuery<T>(sql, params)).rows;
  const stateOf = async (requestId: string) =>
    (await rows<{ state: string; reference: string | null }>('SELECT state, reference FROM transfer_request WHERE request_id = $1', [requestId]))[0];
  const status = (member: TestMember, data: TransferStatus): Promise<Message> =>
    signedEventMessage({
      member: member.id,
      kid: member.kid,
      privateKey: member.privateKey,
      topic: STATUS_TOPIC,
      type: EVENT_TYPES.status,
      key: data.requestId,
      subject: data.requestId,
      data,
    });

  beforeAll(async () => {
    // The relay runs, the connectors do not: only the statuses published here move the requests.
    world = await buildTransferWorld({ connectors: [] });
    kafka = new KafkaMessaging(world.config.kafka);
    await kafka.ensureTopics([topicSpec(DEAD_LETTER_TOPIC, 1)]);
    await kafka.consume({
      groupId: uniqueName('test-dlq'),
      topics: [DEAD_LETTER_TOPIC],
      fromBeginning: true,
      onMessage: async ({ message }) => void letters.push(message),
    });
    const { caseId } = await openTransferCase(world, 'nul');
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
  });

  afterAll(async () => {
    await kafka?.close();
    await world?.close();
  });

  it('dead-letters a signed status holding U+0000, and applies the good status of the same batch', async () => {
    const { water, gas } = world.utilities;
    const requestId = requests.water;
    // One send, one key: one partition, one batch. The poisoned status comes first.
    await kafka.publish(STATUS_TOPIC, [
      await status(water, { requestId, utility: 'water', state: 'completed', reference: 'W-\u0000-1' }),
      await status(water, { requestId, utility: 'water', state: 'accepted' }),
    ]);
    await eventually('the good status applied', () => stateOf(requestId), { until: (row) => row?.state === 'accepted' });
    const refused = await eventually('the poisoned status dead-lettered', () =>
      letters.find((l) => headerText(l.headers, DLQ_HEADERS.topic) === STATUS_TOPIC && l.key?.toString() === requestId),
    );
    expect(headerText(refused.headers, DLQ_HEADERS.reason)).toBe(
      'datarun.utility.transfer-status.v1 body holds U+0000 at /reference, which PostgreSQL cannot store',
    );
    // The operator lists it; the request holds no part of it.
    const [listed] = await eventually(
      'the dead letter recorded',
      () =>
        rows<{ reason: string; sealed_by: string }>('SELECT reason, sealed_by FROM dead_letter WHERE topic = $1 AND message_key = $2', [
          STATUS_TOPIC,
          requestId,
        ]),
      { until: (r) => r.length === 1 },
    );
    expect(listed).toEqual({ reason: headerText(refused.headers, DLQ_HEADERS.reason), sealed_by: 'datarun' });
    expect((await stateOf(requestId))?.reference).toBeNull();

    // A rejection whose reason holds one goes the same way; the consumer goes on.
    await kafka.publish(STATUS_TOPIC, [
      await status(gas, { requestId: requests.gas, utility: 'gas', state: 'rejected', reason: 'closed\u0000' }),
      await status(gas, { requestId: requests.gas, utility: 'gas', state: 'completed', reference: 'G-1' }),
    ]);
    await eventually('the gas request completed', () => stateOf(requests.gas), { until: (row) => row?.state === 'completed' });
    expect(letters.filter((l) => l.key?.toString() === requests.gas).map((l) => headerText(l.headers, DLQ_HEADERS.reason))).toEqual([
      'datarun.utility.transfer-status.v1 body holds U+0000 at /reason, which PostgreSQL cannot store',
    ]);
  });

  it('records a dead letter whose reason and headers hold U+0000, as one never replayed', async () => {
    const key = uniqueName('nul-letter');
    const letter = deadLetter(
      { topic: STATUS_TOPIC, key, value: Buffer.from('{}'), headers: { 'x-note': 'a\u0000b' } },
      'refused: \u0000 in the body',
      'relay',
    );
    await kafka.publish(DEAD_LETTER_TOPIC, [letter]);
    const [row] = await eventually(
      'the dead letter recorded',
      () =>
        rows<{ reason: string; headers: Record<string, string>; sealed_by: string | null; planted_reason: string | null }>(
          'SELECT reason, headers, sealed_by, planted_reason FROM dead_letter WHERE message_key = $1',
          [key],
        ),
      { until: (r) => r.length === 1 },
    );
    expect(row).toEqual({
      reason: 'refused: \ufffd in the body',
      headers: { 'x-note': 'a\ufffdb' },
      sealed_by: null,
      planted_reason: 'its key or headers hold U+0000, which PostgreSQL cannot store (recorded as U+FFFD): it cannot be replayed as it was',
    });
  });
});
