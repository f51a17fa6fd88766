// Record ingest over Kafka (issue 8, item 7): a department publishes its records to
// datarun.records.<source>.v1 instead of calling PUT /v1/sources/{id}/records. The relay creates the
// topic when the replica source is registered, stores what the owner signed and the schema allows
// (audited as the HTTP ingest is), and dead-letters everything else with the reason.
import { readFileSync } from 'node:fs';
import { KafkaMessaging } from '@datarun/messaging';
import { DEAD_LETTER_TOPIC, DLQ_HEADERS, headerText, recordsTopic, SIGNATURE_HEADER, signedRecordMessage, topicSpec } from '@datarun/transfers';
import type { IHeaders, Message } from 'kafkajs';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { generatePopulation, type SourceRecord } from '@datarun/population';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { migratedDatabase, type TestDatabase, uniqueName } from '../support/infra.js';
import { adminKeyFile, registerMember, type TestMember } from '../support/members.js';

const SCHEMA = JSON.parse(readFileSync('schemas/records/household.json', 'utf8'));
const CLASSIFICATION = JSON.parse(readFileSync('schemas/records/classification.json', 'utf8')).household;

interface DeadLetter {
  readonly key: string | undefined;
  readonly value: string | undefined;
  readonly headers: IHeaders;
}

describe('record ingest over Kafka', () => {
  const keys = adminKeyFile();
  let db: TestDatabase;
  let registry: TestApp;
  let relay: TestApp;
  let kafka: KafkaMessaging;
  let owner: TestMember;
  let other: TestMember;
  const people = [...generatePopulation({ people: 12, seed: 808 }).household()];
  const deadLetters: DeadLetter[] = [];
  // Source ids become topic names on the shared broker: unique per run.
  const sourceId = uniqueName('household').replaceAll('_', '-').toLowerCase();
  const secondSourceId = uniqueName('household-b').replaceAll('_', '-').toLowerCase();

  const storedRecords = async (source: string) =>
    (
      await db.ownerQuery<{ subject_key: string; data: SourceRecord }>(
        'SELECT subject_key, data FROM source_record WHERE source_id = $1 ORDER BY subject_key',
        [source],
      )
    ).rows;
  const registerSource = async (id: string) =>
    registry.http
      .post('/v1/sources')
      .set('authorization', await owner.auth())
      .send({ id, title: '户籍 (Kafka)', schema: SCHEMA, subjectKey: 'idNumber', classification: CLASSIFICATION, mode: 'replica' })
      .expect(201);
  const signedBy = (member: TestMember, record: SourceRecord, id: string, asMember = member.id, source = sourceId): Promise<Message> =>
    signedRecordMessage({ member: asMember, kid: member.kid, privateKey: member.privateKey, source, subject: String(record.idNumber), record, id });
  const topicPartitions = async (topic: string): Promise<number | undefined> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const physical = kafka.physical(topic);
      if (!(await admin.listTopics()).includes(physical)) return undefined;
      return (await admin.fetchTopicMetadata({ topics: [physical] })).topics[0].partitions.length;
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    // A topic prefix of this file's own: its status, dead-letter and records topics and its
    // consumer groups are nobody else's on the shared broker.
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath, KAFKA_TOPIC_PREFIX: `${uniqueName('t-records')}.` });
    registry = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    // The relay boots before any replica source exists: it must notice the source later.
    relay = await bootApp(RelayModule.forRoot(db.config), 'relay');
    kafka = new KafkaMessaging(db.config.kafka);
    owner = await registerMember(registry, keys.admin, 'department', 'zj.test.gongan');
    other = await registerMember(registry, keys.admin, 'department', 'zj.test.minzheng');

    await kafka.ensureTopics([topicSpec(DEAD_LETTER_TOPIC, 1)]);
    await kafka.consume({
      groupId: uniqueName('test-dlq-reader'),
      topics: [DEAD_LETTER_TOPIC],
      fromBeginning: true,
      onMessage: async ({ message }) => {
        deadLetters.push({ key: message.key?.toString(), value: message.value?.toString(), headers: message.headers ?? {} });
      },
    });
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await registry?.close();
    if (kafka) {
      await kafka.close();
      // The broker outlives this run: leave none of this file's topics behind on it.
      const admin = kafka.admin();
      await admin.connect();
      const prefix = db.config.kafka.topicPrefix;
      const own = (await admin.listTopics()).filter((t) => prefix !== '' && t.startsWith(prefix));
      if (own.length > 0) await admin.deleteTopics({ topics: own });
      await admin.disconnect();
    }
    await db?.drop();
  });

  it('creates the records topic of a replica source once it is registered (the registry has no Kafka)', async () => {
    expect(await topicPartitions(recordsTopic(sourceId))).toBeUndefined();
    await registerSource(sourceId);
    const partitions = await eventually(`the relay to create ${recordsTopic(sourceId)}`, () => topicPartitions(recordsTopic(sourceId)));
    expect(partitions).toBe(db.config.transfers.topicPartitions);
  }, 60_000);

  it("stores the owner's signed record and dead-letters unsigned, wrongly signed, foreign and schema-breaking ones", async () => {
    const [good, breaking, unsigned, otherKey, forged, tampered, foreign, misKeyed, , unstorable, reKeyed] = people;
    const tag = uniqueName('evt');
    const id = (name: string) => `${tag}-${name}`;
    const unsignedMessage = await signedBy(owner, unsigned, id('unsigned'));
    const tamperedMessage = await signedBy(owner, tampered, id('tampered'));
    const sent: Record<string, Message> = {
      [id('good')]: await signedBy(owner, good, id('good')),
      [id('breaking')]: await signedBy(owner, { ...breaking, gender: 'unknown' }, id('breaking')),
      [id('unsigned')]: {
        ...unsignedMessage,
        headers: Object.fromEntries(Object.entries(unsignedMessage.headers ?? {}).filter(([name]) => name !== SIGNATURE_HEADER)),
      },
      // ce_source names the owner, but the key is another member's (with its own kid, or the owner's).
      [id('other-key')]: await signedBy(other, otherKey, id('other-key'), owner.id),
      [id('forged')]: await signedRecordMessage({
        member: owner.id,
        kid: owner.kid,
        privateKey: other.privateKey,
        source: sourceId,
        subject: String(forged.idNumber),
        record: forged,
        id: id('forged'),
      }),
      // Signed by the owner, then changed on the way.
      [id('tampered')]: { ...tamperedMessage, value: JSON.stringify({ ...tampered, name: '王小二' }) },
      // Properly signed by a department that does not own the source.
      [id('foreign')]: await signedBy(other, foreign, id('foreign')),
      // Signed by the owner under another subject's key: the signature holds, the key does not fit the record.
      [id('mis-keyed')]: await signedRecordMessage({
        member: owner.id,
        kid: owner.kid,
        privateKey: owner.privateKey,
        source: sourceId,
        subject: String(good.idNumber),
        record: misKeyed,
        id: id('mis-keyed'),
      }),
      // Signed under its own key, then moved to another: the signature binds the key.
      [id('re-keyed')]: { ...(await signedBy(owner, reKeyed, id('re-keyed'))), key: String(good.idNumber) },
      // Valid by the schema, but jsonb cannot hold U+0000: redelivering it forever would stall its partition.
      [id('unstorable')]: await signedBy(owner, { ...unstorable, address: '龙游县\u0000东华街道' }, id('unstorable')),
    };
    await kafka.publish(recordsTopic(sourceId), Object.values(sent));

    const expected: Record<string, RegExp> = {
      [id('breaking')]: new RegExp(`^the record breaks the current schema of ${sourceId}: /gender `),
      [id('unsigned')]: /^unsigned: no datarun-signature header/,
      [id('other-key')]: new RegExp(`^kid "${other.kid}" is not a registered key of "${owner.id}"$`),
      [id('forged')]: new RegExp(`^the signature does not verify with key "${owner.kid}" of "${owner.id}"`),
      [id('tampered')]: new RegExp(`^the signature does not verify with key "${owner.kid}" of "${owner.id}"`),
      [id('foreign')]: new RegExp(`^NOT_OWNER: source ${sourceId} belongs to another department \\(ce_source "${other.id}"\\)$`),
      [id('mis-keyed')]: /^the message key must be the record's subject key \(idNumber\)$/,
      [id('re-keyed')]: new RegExp(`^datarun-signature: signed for subject "${reKeyed.idNumber}", not "${good.idNumber}"$`),
      [id('unstorable')]: /^the record cannot be stored \(PostgreSQL 22P05\)/,
    };
    const mine = () =>
      deadLetters.filter((d) => headerText(d.headers, DLQ_HEADERS.topic) === recordsTopic(sourceId) && headerText(d.headers, 'ce_id')?.startsWith(tag));
    await eventually('the good record to be stored', () => storedRecords(sourceId), { until: (stored) => stored.length > 0 });
    await eventually(`${Object.keys(expected).length} dead letters`, () => mine().map((d) => headerText(d.headers, 'ce_id')), {
      until: (ids) => ids.length >= Object.keys(expected).length,
    });

    const byEvent = new Map(mine().map((d) => [headerText(d.headers, 'ce_id') as string, d]));
    expect([...byEvent.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [event, reason] of Object.entries(expected)) {
      const letter = byEvent.get(event) as DeadLetter;
      expect({ event, reason: headerText(letter.headers, DLQ_HEADERS.reason) }).toEqual({ event, reason: expect.stringMatching(reason) });
      expect(headerText(letter.headers, DLQ_HEADERS.by)).toBe('relay');
      // The original message byte for byte, so an operator can replay it once it is fixed.
      expect(letter.value).toBe(sent[event].value);
      expect(letter.key).toBe(sent[event].key);
    }

    // Only the good record reached the replica; the refused ones (valid records, most of them) did not,
    // and the consumer carried on past each of them.
    expect(await storedRecords(sourceId)).toEqual([{ subject_key: good.idNumber, data: good }]);
    const audit = await db.ownerQuery(
      `SELECT member_id, actor, decision, source_id, reason FROM audit_event WHERE action = 'records.ingested' AND source_id = $1`,
      [sourceId],
    );
    expect(audit.rows).toEqual([{ member_id: owner.id, actor: `kafka:${owner.id}`, decision: 'allowed', source_id: sourceId, reason: 'stored 1, rejected 0' }]);
  }, 90_000);

  it('consumes a second source too (the consumer restarts with both topics) and upserts by subject key', async () => {
    await registerSource(secondSourceId);
    await eventually(`the relay to create ${recordsTopic(secondSourceId)}`, () => topicPartitions(recordsTopic(secondSourceId)));
    const [good] = people;
    const newcomer = people[8];
    const moved = { ...good, address: '浙江省衢州市龙游县龙洲街道新城路 8 号' };
    await kafka.publish(recordsTopic(secondSourceId), [await signedBy(owner, newcomer, uniqueName('evt'), owner.id, secondSourceId)]);
    await kafka.publish(recordsTopic(sourceId), [await signedBy(owner, moved, uniqueName('evt'))]);

    await eventually('the record on the second source', () => storedRecords(secondSourceId), { until: (stored) => stored.length > 0 });
    await eventually('the update on the first source', async () => (await storedRecords(sourceId))[0]?.data.address, {
      until: (address) => address === moved.address,
    });
    expect(await storedRecords(secondSourceId)).toEqual([{ subject_key: newcomer.idNumber, data: newcomer }]);
    expect(await storedRecords(sourceId)).toEqual([{ subject_key: good.idNumber, data: moved }]);
  }, 90_000);
});
