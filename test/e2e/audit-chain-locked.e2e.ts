// The audit chain's head locked by someone else (a stuck writer, an administrator's open
// transaction): audited lookups and audited changes answer 503 AUDIT_UNAVAILABLE within the append
// timeout, with no data, instead of hanging; they work again as soon as the lock is released.
import pg from 'pg';
import { buildCity, type City, MATTER } from '../support/exchange.js';

describe('a locked audit chain head', () => {
  let city: City;
  let lookup: Record<string, unknown>;
  let openCase: Record<string, unknown>;

  beforeAll(async () => {
    city = await buildCity(50, { AUDIT_APPEND_TIMEOUT_MS: '300' });
    const person = city.people.find((p) => p.spouseIdNumber)!;
    openCase = { matter: MATTER, parties: [{ idNumber: person.idNumber, name: person.name, role: 'buyer' }], materials: [] };
    const opened = await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(openCase)
      .expect(201);
    lookup = { source: 'marriage', subject: { idNumber: person.idNumber }, purpose: MATTER, caseId: opened.body.id };
  }, 90_000);
  afterAll(async () => {
    await city?.close();
  });

  it('fails closed while the head is locked, and answers again once it is released', async () => {
    const { database } = city.db.config;
    const holder = new pg.Client({ connectionString: database.ownerUrl, options: `-c search_path=${database.schema}` });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT seq FROM audit_chain_head WHERE chain_id = 1 FOR UPDATE');

      const refused = await city.gateway.http
        .post('/v1/lookups')
        .set('authorization', await city.hall.auth())
        .send(lookup);
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('AUDIT_UNAVAILABLE');
      expect(refused.body).not.toHaveProperty('data');
      expect(JSON.stringify(refused.body)).not.toMatch(/married|spouse/);
      // A change, audited in its own transaction, is not made either.
      const notOpened = await city.gateway.http
        .post('/v1/cases')
        .set('authorization', await city.hall.auth())
        .send(openCase);
      expect(notOpened.status).toBe(503);
      expect(notOpened.body.code).toBe('AUDIT_UNAVAILABLE');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }

    await city.gateway.http
      .post('/v1/lookups')
      .set('authorization', await city.hall.auth())
      .send(lookup)
      .expect(200);
    await city.gateway.http
      .post('/v1/cases')
      .set('authorization', await city.hall.auth())
      .send(openCase)
      .expect(201);
  });
});
