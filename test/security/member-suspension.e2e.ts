// Hardening item 9 (last part): a member can be suspended. Before, a member whose system was
// compromised or who broke the rules could only be cut off by removing its keys (and its own
// admin could put them back); now an admin suspends it and every token of it is refused, in the
// registry at once and in every other process within the key directory's few seconds.
import { KeyDirectory, mintToken } from '@datarun/auth';
import { signEvent, verifyEventSignature } from '@datarun/transfers';
import { eventually } from '../support/eventually.js';
import { buildCity, type City } from '../support/exchange.js';
import { caseOfOneParty } from '../support/federated.js';
import { keyPair } from '../support/members.js';

describe('member suspension', () => {
  let city: City;
  let caseId: string;

  beforeAll(async () => {
    city = await buildCity(20);
    ({ caseId } = await caseOfOneParty(city));
  }, 120_000);
  afterAll(() => city?.close());

  const readCase = (authorization: string) => city.gateway.http.get(`/v1/cases/${caseId}`).set('authorization', authorization);
  const readSelf = (authorization: string) => city.registry.http.get(`/v1/members/${city.hall.id}`).set('authorization', authorization);
  /** A status the member signs, as its connector would, checked by the registry process's key directory. */
  const signedStatusVerifies = async () => {
    const binding = { topic: 'datarun.utility.transfer-status.v1', source: city.hall.id, subject: 'request-1' };
    const body = Buffer.from(JSON.stringify({ state: 'completed' }));
    const signature = await signEvent(body, { ...binding, time: new Date().toISOString() }, city.hall.privateKey, city.hall.kid);
    return (await verifyEventSignature(body, signature, binding, city.registry.app.get(KeyDirectory))).ok;
  };
  const stateOf = async (id: string) => (await city.db.ownerQuery<{ state: string }>('SELECT state FROM member WHERE id = $1', [id])).rows[0].state;

  it('refuses a non-admin: 403 ROLE_FORBIDDEN, audited as denied, nothing changed', async () => {
    for (const action of ['suspend', 'reinstate']) {
      const res = await city.registry.http
        .post(`/v1/members/${city.otherHall.id}/${action}`)
        .set('authorization', await city.hall.auth('clerk-9'))
        .send({ reason: 'a rival hall' })
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
      // Refused at the edge (the route is admins' only) or by the use case: one record either way.
      const rows = await city.auditRows(`correlation_id = '${res.body.correlationId}'`);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ decision: 'denied', member_id: city.hall.id, actor: 'clerk-9', reason: 'ROLE_FORBIDDEN' });
      expect(JSON.stringify(rows[0])).not.toContain('a rival hall');
      expect(res.body.auditId).toBe(rows[0].id);
    }
    expect(await stateOf(city.otherHall.id)).toBe('active');
  });

  it("refuses the member's valid tokens while suspended, everywhere, and honours them again once reinstated", async () => {
    // Verified (and cached by each process's token verifier) before the suspension.
    const before = await city.hall.auth('clerk-7');
    await readCase(before).expect(200);
    await readSelf(before).expect(200);

    const suspended = await city.registry.http
      .post(`/v1/members/${city.hall.id}/suspend`)
      .set('authorization', await city.admin.auth('admin-2'))
      .send({ reason: '疑似凭证泄露' })
      .expect(200);
    expect(suspended.body).toMatchObject({ id: city.hall.id, state: 'suspended' });
    const [record] = await city.auditRows(`action = 'member.suspended' AND decision = 'allowed'`);
    expect(record).toMatchObject({ member_id: city.admin.id, actor: 'admin-2', object_ref: `member:${city.hall.id}`, reason: '疑似凭证泄露' });

    const listed = await city.registry.http
      .get('/v1/members')
      .query({ state: 'suspended' })
      .set('authorization', await city.admin.auth())
      .expect(200);
    expect(listed.body.items.map((m: { id: string }) => m.id)).toEqual([city.hall.id]);

    // The registry dropped its directory entry at once: the cached token and a fresh one alike.
    for (const token of [before, await city.hall.auth('clerk-7')]) {
      const res = await readSelf(token).expect(403);
      expect(res.body.code).toBe('MEMBER_SUSPENDED');
    }
    // Another process (the gateway) within its directory's few seconds.
    const refused = await eventually('the gateway refuses the suspended member', async () => {
      const res = await readCase(before);
      return res.status === 403 ? res : undefined;
    });
    expect(refused.body.code).toBe('MEMBER_SUSPENDED');
    const fresh = await readCase(await city.hall.auth('clerk-8')).expect(403);
    expect(fresh.body.code).toBe('MEMBER_SUSPENDED');

    // Its signatures on Kafka verify nothing: the directory gives a suspended member no key.
    expect(await signedStatusVerifies()).toBe(false);

    // A token the member did not sign tells a stranger nothing about the suspension.
    const forged = `Bearer ${await mintToken({ issuer: city.hall.id, kid: city.hall.kid, privateKey: keyPair().privateKey, subject: 'clerk-7' })}`;
    const stranger = await readCase(forged).expect(401);
    expect(stranger.body.code).toBe('TOKEN_INVALID');
    expect(JSON.stringify(stranger.body)).not.toContain('suspend');

    // Suspending again is a conflict, audited as a refusal; the admin cannot suspend its own member.
    const again = await city.registry.http
      .post(`/v1/members/${city.hall.id}/suspend`)
      .set('authorization', await city.admin.auth('admin-2'))
      .expect(409);
    expect(again.body.code).toBe('STATE_CONFLICT');
    const self = await city.registry.http
      .post(`/v1/members/${city.admin.id}/suspend`)
      .set('authorization', await city.admin.auth('admin-2'))
      .send({})
      .expect(409);
    expect(self.body.code).toBe('STATE_CONFLICT');
    expect(await stateOf(city.admin.id)).toBe('active');
    expect(await city.auditRows(`action = 'member.suspended' AND decision = 'denied' AND reason = 'STATE_CONFLICT'`)).toHaveLength(2);

    const reinstated = await city.registry.http
      .post(`/v1/members/${city.hall.id}/reinstate`)
      .set('authorization', await city.admin.auth('admin-3'))
      .expect(200);
    expect(reinstated.body).toMatchObject({ id: city.hall.id, state: 'active' });
    const [back] = await city.auditRows(`action = 'member.reinstated' AND decision = 'allowed'`);
    expect(back).toMatchObject({ member_id: city.admin.id, actor: 'admin-3', object_ref: `member:${city.hall.id}` });

    await readSelf(before).expect(200);
    expect(await signedStatusVerifies()).toBe(true);
    await eventually('the gateway honours the reinstated member', async () => (await readCase(before)).status === 200);
    await readCase(await city.hall.auth('clerk-8')).expect(200);
  }, 60_000);
});
