// Stop a broker under a running relay: /health/ready turns 503 naming Kafka, and recovers.
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { OwnBroker } from '../support/broker.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

describe('relay readiness when its broker dies', () => {
  const broker = new OwnBroker(19092);
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    await broker.start();
    db = await migratedDatabase({ KAFKA_BROKERS: broker.address });
    t = await bootApp(RelayModule.forRoot(db.config), 'relay');
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await broker.stop();
  }, 60_000);

  it('is ready with the broker, 503 naming kafka without it, and ready again after a restart', async () => {
    const before = await t.http.get('/health/ready').expect(200);
    expect(before.body.details.kafka.status).toBe('up');

    await broker.kill();
    expect(await broker.accepts()).toBe(false); // the fault happened: connections are refused

    const down = await t.http.get('/health/ready').expect(503);
    expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(down.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', failed: ['kafka'] });
    expect(down.body.checks.database.status).toBe('up');
    await t.http.get('/health/live').expect(200);

    await broker.start();
    await t.http.get('/health/ready').expect(200);
  }, 120_000);
});
