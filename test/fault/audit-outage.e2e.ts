// The database behind the gateway goes away mid-service: lookups answer 503 AUDIT_UNAVAILABLE
// with no data (fail closed), and recover by themselves when it is back.
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { buildCity, type City, MATTER } from '../support/exchange.js';
import { TcpProxy } from '../support/tcp-proxy.js';

describe('an audit database outage', () => {
  let city: City;
  let proxy: TcpProxy;
  let gateway: TestApp;
  let body: Record<string, unknown>;

  beforeAll(async () => {
    city = await buildCity(100);
    const direct = new URL(city.db.config.database.url);
    proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    await proxy.start();
    const viaProxy = new URL(direct);
    viaProxy.port = String(proxy.port);
    gateway = await bootApp(GatewayModule.forRoot({ ...city.db.config, database: { ...city.db.config.database, url: viaProxy.toString() } }), 'gateway');
    const person = city.people.find((p) => p.spouseIdNumber)!;
    const opened = await gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send({ matter: MATTER, parties: [{ idNumber: person.idNumber, name: person.name, role: 'buyer' }], materials: [] })
      .expect(201);
    body = { source: 'marriage', subject: { idNumber: person.idNumber }, purpose: MATTER, caseId: opened.body.id };
  }, 90_000);
  afterAll(async () => {
    await gateway?.close();
    await proxy?.cut();
    await city?.close();
  });

  it('fails closed while the database is unreachable and recovers by itself', async () => {
    await gateway.http
      .post('/v1/lookups')
      .set('authorization', await city.hall.auth())
      .send(body)
      .expect(200);

    await proxy.cut();
    expect(await proxy.accepts()).toBe(false); // the fault happened: connections are refused
    const refused = await gateway.http
      .post('/v1/lookups')
      .set('authorization', await city.hall.auth())
      .send(body);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('AUDIT_UNAVAILABLE');
    expect(refused.body).not.toHaveProperty('data');
    expect(JSON.stringify(refused.body)).not.toMatch(/married|spouse/);
    const ready = await gateway.http.get('/health/ready').expect(503);
    expect(ready.body.failed).toEqual(['database']);

    await proxy.start();
    expect(await proxy.accepts()).toBe(true);
    // The pool reconnects on its own, on the next requests.
    await eventually(
      'lookups to answer 200 again',
      async () =>
        (
          await gateway.http
            .post('/v1/lookups')
            .set('authorization', await city.hall.auth())
            .send(body)
        ).status,
      { until: (status) => status === 200, timeoutMs: 15_000, everyMs: 250 },
    );
    await gateway.http.get('/health/ready').expect(200);
  }, 60_000);
});
