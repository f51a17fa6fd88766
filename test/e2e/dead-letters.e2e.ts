// Operations on the relay: dead letters recorded from the real broker, listed and replayed by an
// admin (HTTP and `npm run dlq`), audited; outbox backlog, follow-up and consumer lag on /metrics.
import { createPublicKey, randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { AuditLog } from '@datarun/audit';
import { ADMIN_MEMBER_ID, loadKeys, publicJwkOf } from '@datarun/auth';
import type { DatarunConfig } from '@datarun/config';
import { KafkaMessaging } from '@datarun/messaging';
import {
  ConsumerLag,
  DEAD_LETTER_TOPIC,
  deadLetter,
  DeadLetterRecorder,
  DeadLettersService,
  DLQ_HEADERS,
  platformSealer,
  platformSealKey,
  RELAY_DEAD_LETTER_GROUP,
  RELAY_STATUS_GROUP,
  sealedDeadLetter,
  STATUS_TOPIC,
} from '@datarun/transfers';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import pg from 'pg';
import { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { runCli } from '../../scripts/cli/main.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { migratedDatabase, type TestDatabase, uniqueName } from '../support/infra.js';
import { adminKeyFile, keyPair, memberWithKey, type TestMember } from '../support/members.js';

const PROBLEM = /^application\/problem\+json/;
const FOLLOW_UP_SECONDS = 60;

/** `datarun dlq …` in this process, on the test's own database and broker. */
const runDlq = (argv: string[], config: DatarunConfig, out: (line: string) => void, err: (line: string) => void) =>
  runCli(['dlq', ...argv], { out, err, config: () => config });

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function headersAsText(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(Array.isArray(value) ? value[0] : value)]));
}

describe('dead letters and transfer operations on the relay', () => {
  let db: TestDatabase;
  let relay: TestApp;
  let admin: TestMember;
  let hall: TestMember;
  let kafka: KafkaMessaging;
  let outboxLock: pg.Client;
  // The broker is shared by every test file: a topic prefix of this file's own keeps its relay's
  // consumer groups and dead-letter topic apart from the other relays under test, and the
  // listing is filtered by an original topic of its own as well.
  const prefix = `${uniqueName('t')}.`;
  const original = uniqueName('datarun.test.dlq').replaceAll('_', '-');
  const replayed: KafkaMessage[] = [];
  const replayGroup = uniqueName('test-dlq-replay');
  const firstAt = new Date(Date.now() - 60_000);
  const jsonValue = JSON.stringify({ requestId: randomUUID(), state: 'finished', 名: '张三' });
  const jsonHeaders = { ce_id: randomUUID(), ce_type: 'datarun.utility.transfer-status.v1', ce_source: 'zj.test.water', 'x-binary-ish': Buffer.from('abc') };

  beforeAll(async () => {
    const keys = adminKeyFile();
    admin = keys.admin;
    db = await migratedDatabase({
      DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath,
      TRANSFER_FOLLOW_UP_SECONDS: String(FOLLOW_UP_SECONDS),
      KAFKA_TOPIC_PREFIX: prefix,
    });
    const schema = db.config.database.schema;

    // Members as the registry would have them (the relay serves no registry routes).
    hall = memberWithKey(uniqueName('zj.test.hall').replaceAll('_', '-'), 'consumer', keyPair());
    await db.ownerQuery(`INSERT INTO member (id, name, kind, jwks) VALUES ($1, '管理员', 'admin', $2), ($3, '服务大厅', 'consumer', $4)`, [
      admin.id,
      JSON.stringify({ keys: [publicJwkOf(createPublicKey(admin.privateKey), admin.kid)] }),
      hall.id,
      JSON.stringify({ keys: [publicJwkOf(createPublicKey(hall.privateKey), hall.kid)] }),
    ]);

    // Outbox rows in every state, of several ages. This test holds the outbox leadership (as a
    // second relay instance would), so the app's relay leaves the pending row pending.
    outboxLock = new pg.Client({ connectionString: db.config.database.ownerUrl, options: `-c search_path=${schema}` });
    await outboxLock.connect();
    const locked = await outboxLock.query(`SELECT pg_try_advisory_lock(hashtext('datarun.relay.outbox:' || current_schema())) AS locked`);
    expect(locked.rows[0].locked).toBe(true);
    // …and its lease, for an hour: a relay without the lock takes an expired lease too.
    await outboxLock.query(`UPDATE relay_lease SET epoch = epoch + 1, holder = 'dead-letters test', expires_at = clock_timestamp() + interval '1 hour'`);
    const caseId = randomUUID();
    await db.ownerQuery(`INSERT INTO matter (code, title, evidence, materials, on_complete) VALUES ('dlq-test', '测试', '{}', '{}', '[]')`);
    await db.ownerQuery(
      `INSERT INTO service_case (id, consumer_id, matter_code, state, parties, materials, opened_by) VALUES ($1, $2, 'dlq-test', 'completed', '[]', '[]', 'clerk-1')`,
      [caseId, hall.id],
    );
    const request = (utility: string, state: string, ageSeconds: number) =>
      db.ownerQuery(
        `INSERT INTO transfer_request (request_id, case_id, utility, request_kind, topic, message_key, payload, state, created_at, updated_at)
         VALUES ($1, $2, $3, 'transfer', $4, 'unit-1', '{}', $5, now() - make_interval(secs => $6), now() - make_interval(secs => $6))`,
        [randomUUID(), caseId, utility, `datarun.utility.${utility}.transfer-requested.v1`, state, ageSeconds],
      );
    await request('water', 'pending', 120); // backlog 1, oldest ≥ 120 s, overdue
    await request('electricity', 'published', 30); // in flight, not yet overdue
    await request('gas', 'accepted', 600); // overdue
    await request('heat', 'completed', 600); // done: never overdue

    kafka = new KafkaMessaging(db.config.kafka);
    await kafka.ensureTopics([{ topic: original, partitions: 1 }]);
    await kafka.consume({
      groupId: replayGroup,
      topics: [original],
      commitEvery: { messages: 1, ms: 100 },
      onMessage: async ({ message }) => void replayed.push(message),
    });

    relay = await bootApp(RelayModule.forRoot(db.config), 'relay');
    // Sealed by datarun, as the relay seals what it dead-letters (an unsealed one would be planted).
    const seal = platformSealer(platformSealKey(loadKeys(db.config, { required: ['materialLinkKey'] }).require('materialLinkKey')));
    await kafka.publish(DEAD_LETTER_TOPIC, [
      await sealedDeadLetter(
        { topic: original, key: 'unit-0001', value: Buffer.from(jsonValue), headers: jsonHeaders },
        'schema: /state must be one of accepted, completed, rejected',
        'datarun.connector.zj.demo.water',
        seal,
        firstAt,
      ),
      await sealedDeadLetter(
        { topic: original, key: 'unit-0002', value: Buffer.from([0xff, 0x00, 0xfe]), headers: { ce_id: randomUUID() } },
        'not JSON',
        'relay',
        seal,
        new Date(firstAt.getTime() + 1000),
      ),
    ]);
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await kafka?.close();
    await outboxLock?.end();
    await db?.drop();
  });

  /** The dead letters of the test topic as `who`; with `status`, supertest checks it. */
  const list = async (query = '', who: TestMember = admin, status?: number) => {
    const request = relay.http.get(`/v1/ops/dead-letters?topic=${encodeURIComponent(original)}${query}`).set('authorization', await who.auth('admin-1'));
    return status === undefined ? request : request.expect(status);
  };
  const recorded = async () =>
    (await eventually('both dead letters recorded', () => list(), { until: (res) => res.status === 200 && res.body.items.length === 2 })).body.items;

  it('records each dead letter once and lists them newest first with the original message', async () => {
    const items = await recorded();
    expect(items.map((i: { key: string }) => i.key)).toEqual(['unit-0002', 'unit-0001']);
    expect(items[0]).toMatchObject({
      topic: original,
      reason: 'not JSON',
      by: 'relay',
      value: Buffer.from([0xff, 0x00, 0xfe]).toString('base64'),
      valueEncoding: 'base64',
      replays: 0,
      replayedAt: null,
    });
    expect(items[1]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      topic: original,
      key: 'unit-0001',
      reason: 'schema: /state must be one of accepted, completed, rejected',
      by: 'datarun.connector.zj.demo.water',
      at: firstAt.toISOString(),
      replays: 0,
      replayedAt: null,
      planted: false,
      sealedBy: 'datarun',
      plantedReason: null,
      headers: headersAsText(jsonHeaders),
      value: jsonValue,
      valueEncoding: 'json',
    });

    // A redelivery of the same dead letter (a crash before the offset commit) adds nothing.
    const [row] = (await db.ownerQuery('SELECT dlq_partition, dlq_offset FROM dead_letter WHERE id = $1', [items[1].id])).rows;
    const again = deadLetter({ topic: original, key: 'unit-0001', value: Buffer.from(jsonValue), headers: jsonHeaders }, 'again', 'test');
    const redelivered = {
      ...again,
      key: Buffer.from('unit-0001'),
      offset: String(row.dlq_offset),
      timestamp: String(Date.now()),
      attributes: 0,
      size: 0,
    } as unknown as KafkaMessage;
    expect(await relay.app.get(DeadLetterRecorder).record({ partition: row.dlq_partition, message: redelivered })).toBe(false);
    expect(Number((await db.ownerQuery('SELECT count(*) FROM dead_letter WHERE topic = $1', [original])).rows[0].count)).toBe(2);
  }, 60_000);

  it('pages with a cursor and validates the query', async () => {
    await recorded();
    const first = await list('&limit=1', admin, 200);
    expect(first.body.items.map((i: { key: string }) => i.key)).toEqual(['unit-0002']);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await list(`&limit=1&cursor=${encodeURIComponent(first.body.next)}`, admin, 200);
    expect(second.body.items.map((i: { key: string }) => i.key)).toEqual(['unit-0001']);
    expect(second.body.next).toBeNull();

    for (const bad of ['&limit=0', '&limit=1001', '&limit=ten', '&cursor=not-a-cursor']) {
      const res = await list(bad, admin, 400);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    }
  }, 60_000);

  it('refuses callers who are not admins, unknown ids, origin-less messages, and leaves no trace when Kafka refuses', async () => {
    const [item] = await recorded();
    for (const res of [await list('', hall), await relay.http.post(`/v1/ops/dead-letters/${item.id}/replay`).set('authorization', await hall.auth())]) {
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
    }
    expect((await relay.http.get('/v1/ops/dead-letters')).body.code).toBe('TOKEN_MISSING');
    for (const id of [randomUUID(), 'not-a-uuid']) {
      const res = await relay.http
        .post(`/v1/ops/dead-letters/${id}/replay`)
        .set('authorization', await admin.auth('admin-1'))
        .expect(404);
      expect(res.headers['content-type']).toMatch(PROBLEM);
      expect(res.body.code).toBe('DEAD_LETTER_NOT_FOUND');
    }

    // A message on the dead-letter topic without the dead-letter headers has no origin to replay to.
    const orphan = randomUUID();
    await db.ownerQuery(
      `INSERT INTO dead_letter (id, dlq_partition, dlq_offset, topic, message_key, value, headers, reason, dead_lettered_by, dead_lettered_at)
       VALUES ($1, 99, 1, '', NULL, NULL, '{}', 'no datarun-dlq-reason header', 'unknown', now())`,
      [orphan],
    );
    const conflict = await relay.http
      .post(`/v1/ops/dead-letters/${orphan}/replay`)
      .set('authorization', await admin.auth('admin-1'))
      .expect(409);
    expect(conflict.body.code).toBe('STATE_CONFLICT');

    // A broker that does not take the replay: 503, and neither a count nor an audit record of it.
    const refusing = { publish: () => Promise.reject(new Error('broker down')) } as unknown as KafkaMessaging;
    const service = new DeadLettersService(relay.app.get(DataSource), refusing, relay.app.get(AuditLog));
    await expect(service.replay({ memberId: ADMIN_MEMBER_ID, role: 'admin', actor: 'admin-1' }, item.id)).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });

    expect(replayed).toHaveLength(0);
    expect(Number((await db.ownerQuery(`SELECT count(*) FROM dead_letter WHERE replays > 0`)).rows[0].count)).toBe(0);
    expect(Number((await db.ownerQuery(`SELECT count(*) FROM audit_event WHERE action = 'dead-letter.replayed'`)).rows[0].count)).toBe(0);
  }, 60_000);

  it('replays the original key, value and headers to the original topic, counted and audited (API, then CLI)', async () => {
    const items = await recorded();
    const id = items[1].id;

    const res = await relay.http
      .post(`/v1/ops/dead-letters/${id}/replay`)
      .set('authorization', await admin.auth('admin-1'))
      .expect(200);
    expect(res.body).toMatchObject({ id, topic: original, replays: 1, replayedAt: expect.any(String) });
    const [message] = await eventually('the replay on the original topic', () => replayed, { until: (messages) => messages.length >= 1 });
    expect(message.key?.toString()).toBe('unit-0001');
    expect(message.value?.equals(Buffer.from(jsonValue))).toBe(true);
    expect(headersAsText(message.headers)).toEqual(headersAsText(jsonHeaders));
    expect(Object.keys(message.headers ?? {}).filter((h) => (Object.values(DLQ_HEADERS) as string[]).includes(h))).toEqual([]);

    const audited = async (actor: string) =>
      (
        await db.ownerQuery(`SELECT member_id, actor, reason FROM audit_event WHERE action = 'dead-letter.replayed' AND object_ref = $1 AND actor = $2`, [
          `dead-letter:${id}`,
          actor,
        ])
      ).rows;
    expect(await audited('admin-1')).toEqual([{ member_id: 'datarun.admin', actor: 'admin-1', reason: original }]);

    // The CLI: same listing, same replay, audited as the operator at the shell.
    const out: string[] = [];
    const err: string[] = [];
    expect(
      await runDlq(
        ['list', '--topic', original, '--json'],
        db.config,
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(0);
    const page = JSON.parse(out.pop()!);
    expect(page.items.map((i: { id: string; replays: number }) => [i.id, i.replays])).toEqual([
      [items[0].id, 0],
      [id, 1],
    ]);
    expect(
      await runDlq(
        ['list', '--topic', original, '--limit', '1'],
        db.config,
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(0);
    expect(out.splice(0)).toEqual([
      expect.stringContaining(`${items[0].id}  ${original}  key=unit-0002  by=relay  replays=0  not JSON`),
      expect.stringMatching(/^\(more: --cursor \S+\)$/),
    ]);

    expect(
      await runDlq(
        ['replay', id],
        db.config,
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(0);
    expect(out.pop()).toBe(`replayed ${id} to ${original} (replays: 2)`);
    await eventually('the second replay', () => replayed.length, { until: (n) => n >= 2 });
    expect(replayed[1].value?.equals(Buffer.from(jsonValue))).toBe(true);
    const operator = `cli:${userInfo().username}`;
    expect(await audited(operator)).toEqual([{ member_id: 'datarun.admin', actor: operator, reason: original }]);
    expect((await db.ownerQuery('SELECT replays, replayed_at FROM dead_letter WHERE id = $1', [id])).rows[0]).toMatchObject({
      replays: 2,
      replayed_at: expect.any(Date),
    });

    expect(
      await runDlq(
        ['replay', randomUUID()],
        db.config,
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(1);
    expect(err.pop()).toMatch(/^dlq replay: DEAD_LETTER_NOT_FOUND: /);
    expect(
      await runDlq(
        ['purge'],
        db.config,
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(2);
    expect(err.pop()).toBe('datarun: unknown command "dlq purge": dlq has list, replay (datarun --help)');
    expect(replayed).toHaveLength(2);
  }, 60_000);

  it('describes both operations in the OpenAPI document, with their problem codes', async () => {
    const doc = (await relay.http.get('/openapi.json').expect(200)).body;
    expect(Object.keys(doc.paths['/v1/ops/dead-letters'])).toContain('get');
    expect(JSON.stringify(doc.paths['/v1/ops/dead-letters/{id}/replay'].post.responses)).toContain('DEAD_LETTER_NOT_FOUND');
  });

  it('shows outbox backlog, oldest pending age, overdue requests and consumer lag on /metrics', async () => {
    const text = (await relay.http.get('/metrics').expect(200)).text;
    expect(metricValue(text, 'datarun_outbox_backlog')).toBe(1);
    const oldest = metricValue(text, 'datarun_outbox_oldest_pending_seconds')!;
    expect(oldest).toBeGreaterThanOrEqual(120);
    expect(oldest).toBeLessThan(600);
    expect(metricValue(text, 'datarun_transfers_overdue')).toBe(2);
    expect((await db.ownerQuery(`SELECT state FROM transfer_request WHERE utility = 'water'`)).rows[0].state).toBe('pending');

    // The relay's own groups, labelled by the names in docs/api.md (this file's prefix is the broker's
    // business): the dead-letter group has read and committed both dead letters of this test.
    const lagSeries = [
      `datarun_kafka_consumer_lag{group="${RELAY_STATUS_GROUP}",topic="${STATUS_TOPIC}"}`,
      `datarun_kafka_consumer_lag{group="${RELAY_DEAD_LETTER_GROUP}",topic="${DEAD_LETTER_TOPIC}"}`,
    ];
    await eventually(
      'both relay groups at lag 0',
      async () => {
        const scraped = (await relay.http.get('/metrics').expect(200)).text;
        return lagSeries.map((s) => metricValue(scraped, s));
      },
      { until: (lags) => lags.every((lag) => lag === 0) },
    );

    // The arithmetic against the real broker, on this test's own topic: a group that never read
    // it lags by everything on it; the group that read and committed it catches up to 0.
    const registry = new Registry();
    const never = uniqueName('test-dlq-never');
    new ConsumerLag(
      kafka,
      registry,
      [
        { groupId: never, topic: original },
        { groupId: replayGroup, topic: original },
      ],
      { cacheMs: 0, timeoutMs: 10_000 },
    );
    const messages = (await db.ownerQuery('SELECT sum(replays)::int AS n FROM dead_letter WHERE topic = $1', [original])).rows[0].n;
    expect(messages).toBeGreaterThan(0);
    await eventually(
      'the replay group to commit everything',
      async () => metricValue(await registry.metrics(), `datarun_kafka_consumer_lag{group="${replayGroup}",topic="${original}"}`),
      { until: (lag) => lag === 0 },
    );
    expect(metricValue(await registry.metrics(), `datarun_kafka_consumer_lag{group="${never}",topic="${original}"}`)).toBe(messages);
  }, 60_000);
});
