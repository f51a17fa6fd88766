// A database that does not answer makes /health/ready a 503 that names it, while liveness holds;
// so does a Kafka consumer that kafkajs gave up on, by its group.
import { randomUUID } from 'node:crypto';
import { KafkaMessaging } from '@datarun/messaging';
import { listen, PortInUse } from '@datarun/platform';
import { KafkaJSNonRetriableError } from 'kafkajs';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, testConfig } from '../support/infra.js';
import net from 'node:net';
import { portAccepts } from '../support/net.js';
import { eventually } from '../support/eventually.js';

/** A port on which nothing listens: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

describe('a port already in use', () => {
  it('is reported in one line naming the port', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const { port } = squatter.address() as net.AddressInfo;
    const t = await bootApp(SandboxModule.forRoot(testConfig()), 'sandbox');
    try {
      await expect(listen(t.app, 'sandbox', port, '127.0.0.1')).rejects.toThrow(
        new PortInUse(`sandbox: port ${port} on 127.0.0.1 is already in use (set the port variable to move it)`),
      );
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });
});

describe('readiness with a schema behind the code', () => {
  it('answers 503 naming the database (why is in the log, not in the public answer)', async () => {
    const db = await migratedDatabase();
    const t = await bootApp(RelayModule.forRoot(db.config), 'relay');
    try {
      await t.http.get('/health/ready').expect(200);
      await db.ownerQuery('DELETE FROM typeorm_migrations WHERE id = (SELECT max(id) FROM typeorm_migrations)');
      const res = await t.http.get('/health/ready').expect(503);
      expect(res.body.failed).toEqual(['database']);
      expect(res.body.detail).toMatch(/^not ready: database /);
      expect(res.body.detail).not.toMatch(/migrations/);
    } finally {
      await t.close();
      await db.drop();
    }
  });
});

describe('readiness with a wrong DATABASE_URL', () => {
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    port = await closedPort();
    t = await bootApp(RelayModule.forRoot(testConfig({ DATABASE_URL: `postgres://datarun_app@127.0.0.1:${port}/nowhere`, DATABASE_OWNER_URL: '' })), 'relay');
  });
  afterAll(() => t?.close());

  it('boots, stays live, and answers 503 SERVICE_UNAVAILABLE naming the database only', async () => {
    expect(await portAccepts(port)).toBe(false); // the fault itself: connections are refused
    await t.http.get('/health/live').expect(200);
    const res = await t.http.get('/health/ready').expect(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('SERVICE_UNAVAILABLE');
    expect(res.body.failed).toEqual(['database']);
    expect(res.body.detail).toMatch(/database/);
    expect(res.body.checks.kafka.status).toBe('up');
  });
});

describe('readiness with a consumer that stopped for good', () => {
  it('answers 503 naming its consumer group, and 200 again once it is stopped', async () => {
    const db = await migratedDatabase();
    const t = await bootApp(RelayModule.forRoot(db.config), 'relay');
    try {
      await t.http.get('/health/ready').expect(200);
      const messaging = t.app.get(KafkaMessaging);
      const topic = `test.readiness-crash.${randomUUID()}`;
      const groupId = `readiness-crash-${randomUUID()}`;
      await messaging.ensureTopics([{ topic, partitions: 1 }]);
      // An error kafkajs does not retry: it crashes the consumer and does not restart it.
      const consumer = await messaging.consume({
        groupId,
        topics: [topic],
        onMessage: async () => {
          throw new KafkaJSNonRetriableError('this consumer cannot go on');
        },
      });
      await messaging.publish(topic, [{ key: 'k', value: 'v' }]);
      const res = await eventually('readiness names the stopped consumer', () => t.http.get('/health/ready'), { until: (r) => r.status === 503 });
      expect(res.body.failed).toEqual(['kafka']);
      expect(res.body.checks.kafka).toEqual({ status: 'down', stopped: [groupId] });
      expect(res.body.detail).toBe(`not ready: kafka consumers stopped: ${groupId} (the reason is in this process's log)`);
      expect(res.body.checks.database.status).toBe('up');

      // Its owner stopping it (to start another, or for good) is not a stopped consumer any more.
      await messaging.stopConsumer(consumer);
      await t.http.get('/health/ready').expect(200);
    } finally {
      await t.close();
      await db.drop();
    }
  });
});
