// Recipients through the registry's HTTP API: every unit a matter notifies is a registered member,
// a utility kind names the one member registered for it, and nothing is stored on a refusal.
import { publicJwkOf } from '@datarun/auth';
import { RecipientDirectory } from '@datarun/registry';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { adminKeyFile, keyPair, memberWithKey, registerMember, type TestMember, uniqueMemberId } from '../support/members.js';

// The one place webhooks may go in this test (EGRESS_ALLOWLIST).
const HOOKS = '127.0.0.1:18443';
const BENEFIT_RECIPIENT = { delivery: 'kafka', requests: ['benefit'] };
const utilityRecipient = (utilityKind: string) => ({ delivery: 'kafka', requests: ['transfer', 'discount'], utilityKind });

describe('recipients in the registry', () => {
  let db: TestDatabase;
  let t: TestApp;
  let admin: TestMember;
  let directory: RecipientDirectory;

  const count = async (table: string, where: string, params: unknown[] = []) =>
    Number((await db.ownerQuery(`SELECT count(*) FROM ${table} WHERE ${where}`, params)).rows[0].count);
  const newMember = (kind: string, recipient?: object, id = uniqueMemberId(`zj.test.${kind}`), pair = keyPair()) => ({
    id,
    name: `测试 ${kind}`,
    kind,
    jwks: { keys: [publicJwkOf(pair.publicKey, `${id}-k1`)] },
    ...(recipient ? { recipient } : {}),
  });
  /** A member registered with its recipient settings, as the admin. */
  const registerRecipient = async (kind: 'utility' | 'department', recipient: object): Promise<TestMember> => {
    const pair = keyPair();
    const body = newMember(kind, recipient, undefined, pair);
    await t.http
      .post('/v1/members')
      .set('authorization', await admin.auth())
      .send(body)
      .expect(201);
    return memberWithKey(body.id, kind, pair);
  };
  const matter = (onComplete: object[], code = uniqueMemberId('m').replaceAll('.', '-')) => ({
    code,
    title: '测试事项',
    evidence: [],
    materials: ['property-certificate', 'allowance-decision'],
    onComplete,
  });

  beforeAll(async () => {
    const keys = adminKeyFile();
    admin = keys.admin;
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath, EGRESS_ALLOWLIST: HOOKS });
    t = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    directory = t.app.get(RecipientDirectory);
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('registers a utility as the recipient of its kind and shows it on the member, the list and the directory', async () => {
    const body = newMember('utility', { delivery: 'kafka', requests: ['discount', 'transfer'], utilityKind: 'cable' });
    const created = await t.http
      .post('/v1/members')
      .set('authorization', await admin.auth())
      .send(body)
      .expect(201);
    // Stored in the contract's order of request kinds, whatever order was sent.
    expect(created.body.recipient).toEqual({ delivery: 'kafka', requests: ['transfer', 'discount'], utilityKind: 'cable' });
    const got = await t.http
      .get(`/v1/members/${body.id}`)
      .set('authorization', await admin.auth())
      .expect(200);
    expect(got.body.recipient).toEqual(created.body.recipient);
    const listed = await t.http
      .get('/v1/members')
      .query({ kind: 'utility' })
      .set('authorization', await admin.auth())
      .expect(200);
    expect(listed.body.items.find((m: { id: string }) => m.id === body.id).recipient).toEqual(created.body.recipient);
    const adminView = await t.http
      .get('/v1/members/datarun.admin')
      .set('authorization', await admin.auth())
      .expect(200);
    expect(adminView.body.recipient).toBeNull();

    // The kind names this member, as does its id.
    const expected = { memberId: body.id, name: body.name, state: 'active', delivery: 'kafka', requests: ['transfer', 'discount'], utilityKind: 'cable' };
    expect(await directory.resolve('cable')).toEqual(expected);
    expect(await directory.resolve(body.id)).toEqual(expected);
    expect(await directory.of(body.id)).toEqual(expected);
    expect(await directory.resolve('heat')).toBeUndefined();
    expect(
      await count('audit_event', `action = 'member.registered' AND object_ref = $1 AND reason = 'recipient kafka transfer,discount for cable'`, [
        `member:${body.id}`,
      ]),
    ).toBe(1);
  });

  it('refuses a second recipient of a utility kind, at registration and by PUT, storing nothing', async () => {
    const first = await registerRecipient('utility', utilityRecipient('gas'));
    const second = newMember('utility', utilityRecipient('gas'));
    const res = await t.http
      .post('/v1/members')
      .set('authorization', await admin.auth())
      .send(second)
      .expect(409);
    expect(res.body).toMatchObject({ code: 'ALREADY_EXISTS', detail: expect.stringContaining(`${first.id} already receives the gas requests`) });
    expect(await count('member', 'id = $1', [second.id])).toBe(0);

    const other = await registerMember(t, admin, 'utility');
    const put = await t.http
      .put(`/v1/members/${other.id}/recipient`)
      .set('authorization', await admin.auth())
      .send(utilityRecipient('gas'))
      .expect(409);
    expect(put.body.code).toBe('ALREADY_EXISTS');
    expect(await count('recipient', 'member_id = $1', [other.id])).toBe(0);
    expect((await directory.resolve('gas'))?.memberId).toBe(first.id);
    // A refused change of where requests go is audited, without the settings sent.
    expect(
      await count('audit_event', `action = 'member.recipient-set' AND decision = 'denied' AND reason = 'ALREADY_EXISTS' AND object_ref = $1`, [
        `member:${other.id}`,
      ]),
    ).toBe(1);

    // The kind's own member may restate its settings.
    await t.http
      .put(`/v1/members/${first.id}/recipient`)
      .set('authorization', await first.auth())
      .send({ delivery: 'kafka', requests: ['transfer'], utilityKind: 'gas' })
      .expect(200);
    expect((await directory.resolve('gas'))?.requests).toEqual(['transfer']);
  });

  it('refuses a webhook outside the egress allowlist with 400 ENDPOINT_NOT_ALLOWED and stores nothing', async () => {
    const body = newMember('department', { delivery: 'webhook', endpoint: 'http://10.0.0.7:8080/hooks', requests: ['benefit'] });
    const res = await t.http
      .post('/v1/members')
      .set('authorization', await admin.auth())
      .send(body)
      .expect(400);
    expect(res.body).toMatchObject({ code: 'ENDPOINT_NOT_ALLOWED', detail: expect.stringContaining('10.0.0.7:8080 is not on the egress allowlist') });
    expect(await count('member', 'id = $1', [body.id])).toBe(0);

    const dept = await registerMember(t, admin, 'department');
    const put = await t.http
      .put(`/v1/members/${dept.id}/recipient`)
      .set('authorization', await dept.auth())
      .send({ delivery: 'webhook', endpoint: 'https://hooks.example:443/x', requests: ['benefit'] })
      .expect(400);
    expect(put.body.code).toBe('ENDPOINT_NOT_ALLOWED');
    expect(await count('recipient', 'member_id = $1', [dept.id])).toBe(0);

    // On the allowlist: stored, and listed among webhook recipients.
    const endpoint = `http://${HOOKS}/v1/webhooks/${dept.id}`;
    const ok = await t.http
      .put(`/v1/members/${dept.id}/recipient`)
      .set('authorization', await dept.auth())
      .send({ delivery: 'webhook', endpoint, requests: ['benefit'] })
      .expect(200);
    expect(ok.body.recipient).toEqual({ delivery: 'webhook', endpoint, requests: ['benefit'] });
    expect((await directory.list({ delivery: 'webhook' })).map((r) => r.memberId)).toContain(dept.id);
    expect((await directory.list({ delivery: 'kafka' })).map((r) => r.memberId)).not.toContain(dept.id);
    expect(
      await count('audit_event', `action = 'member.recipient-set' AND decision = 'allowed' AND actor = 'clerk-0001' AND object_ref = $1`, [
        `member:${dept.id}`,
      ]),
    ).toBe(1);
  });

  it.each([
    ['a consumer', 'consumer', BENEFIT_RECIPIENT, 'only utility and department members receive requests, not a member of kind consumer'],
    [
      'a utility kind for a department',
      'department',
      { delivery: 'kafka', requests: ['benefit'], utilityKind: 'water' },
      'only a utility member receives for a utility kind',
    ],
    ['a webhook without an endpoint', 'department', { delivery: 'webhook', requests: ['benefit'] }, 'a webhook recipient needs an endpoint'],
    [
      'a kafka recipient with an endpoint',
      'department',
      { delivery: 'kafka', endpoint: `http://${HOOKS}/x`, requests: ['benefit'] },
      'only a webhook recipient has an endpoint',
    ],
    ['an unknown request kind', 'utility', { delivery: 'kafka', requests: ['refund'] }, 'requests'],
    ['no request kind', 'utility', { delivery: 'kafka', requests: [] }, 'requests'],
    ['an unknown utility kind', 'utility', { delivery: 'kafka', requests: ['transfer'], utilityKind: 'steam' }, 'utilityKind'],
  ])('refuses recipient settings for %s: 400 VALIDATION_FAILED, nothing stored', async (_, kind, recipient, detail) => {
    const body = newMember(kind, recipient);
    const res = await t.http
      .post('/v1/members')
      .set('authorization', await admin.auth())
      .send(body)
      .expect(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining(detail) });
    expect(await count('member', 'id = $1', [body.id])).toBe(0);

    const existing = await registerMember(t, admin, kind);
    const put = await t.http
      .put(`/v1/members/${existing.id}/recipient`)
      .set('authorization', await admin.auth())
      .send(recipient)
      .expect(400);
    expect(put.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining(detail) });
    expect(await count('recipient', 'member_id = $1', [existing.id])).toBe(0);
  });

  it('lets only the member itself or an admin set its recipient settings, and answers 404 for an unknown member', async () => {
    const dept = await registerMember(t, admin, 'department');
    const stranger = await registerMember(t, admin, 'department');
    const res = await t.http
      .put(`/v1/members/${dept.id}/recipient`)
      .set('authorization', await stranger.auth())
      .send(BENEFIT_RECIPIENT)
      .expect(403);
    expect(res.body.code).toBe('ROLE_FORBIDDEN');
    expect(await count('recipient', 'member_id = $1', [dept.id])).toBe(0);
    expect(await count('audit_event', `action = 'member.recipient-set' AND decision = 'denied' AND member_id = $1`, [stranger.id])).toBe(1);

    const missing = await t.http
      .put('/v1/members/zj.test.nobody/recipient')
      .set('authorization', await admin.auth())
      .send(BENEFIT_RECIPIENT)
      .expect(404);
    expect(missing.body.code).toBe('MEMBER_NOT_FOUND');
  });

  it('refuses a matter that notifies a name no member receives for: 404 RECIPIENT_NOT_FOUND, nothing stored', async () => {
    const body = matter([{ notify: 'broadband', request: 'transfer', optional: true }]);
    const res = await t.http
      .post('/v1/matters')
      .set('authorization', await admin.auth())
      .send(body)
      .expect(404);
    expect(res.body).toMatchObject({ code: 'RECIPIENT_NOT_FOUND', detail: expect.stringContaining('onComplete[0] notifies broadband') });
    expect(await count('matter', 'code = $1', [body.code])).toBe(0);
    // A member that exists but registered no recipient settings receives nothing either.
    const dept = await registerMember(t, admin, 'department');
    const byId = matter([{ notify: dept.id, request: 'benefit', benefit: 'education-aid' }]);
    await t.http
      .post('/v1/matters')
      .set('authorization', await admin.auth())
      .send(byId)
      .expect(404);
    expect(await count('matter', 'code = $1', [byId.code])).toBe(0);
  });

  it("registers a matter naming a utility kind and a department's benefit with fields [idNumber]", async () => {
    const water = await registerRecipient('utility', utilityRecipient('water'));
    const jiaoyu = await registerRecipient('department', BENEFIT_RECIPIENT);
    const body = matter([
      { notify: 'water', request: 'discount', materials: ['allowance-decision'], holderRole: 'applicant' },
      { notify: jiaoyu.id, request: 'benefit', benefit: 'education-aid', fields: ['idNumber'], materials: ['allowance-decision'], holderRole: 'applicant' },
    ]);
    const created = await t.http
      .post('/v1/matters')
      .set('authorization', await admin.auth())
      .send(body)
      .expect(201);
    expect(created.body.onComplete).toEqual([
      { notify: 'water', request: 'discount', fields: [], materials: ['allowance-decision'], holderRole: 'applicant' },
      { notify: jiaoyu.id, request: 'benefit', benefit: 'education-aid', fields: ['idNumber'], materials: ['allowance-decision'], holderRole: 'applicant' },
    ]);
    // The kind resolves to the member registered for it.
    expect((await directory.resolve(created.body.onComplete[0].notify))?.memberId).toBe(water.id);

    // Refused, nothing stored: a benefit without its code, a request the recipient does not
    // handle, a transfer to a department, the same request twice (by kind and by member id).
    for (const [onComplete, detail] of [
      [[{ notify: jiaoyu.id, request: 'benefit' }], 'benefit must name the benefit'],
      [[{ notify: 'water', request: 'benefit', benefit: 'water-aid' }], 'handles only transfer, discount'],
      [[{ notify: jiaoyu.id, request: 'transfer' }], 'handles only benefit'],
      [
        [
          { notify: 'water', request: 'discount' },
          { notify: water.id, request: 'discount' },
        ],
        'the same discount',
      ],
      [[{ notify: jiaoyu.id, request: 'benefit', benefit: 'education-aid', fields: ['phone'] }], 'fields'],
    ] as const) {
      const refused = matter([...onComplete]);
      const res = await t.http
        .post('/v1/matters')
        .set('authorization', await admin.auth())
        .send(refused)
        .expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining(detail) });
      expect(await count('matter', 'code = $1', [refused.code])).toBe(0);
    }
  });

  it('lists only active recipients; a suspended one still resolves, with its state, for the caller to refuse', async () => {
    const heat = await registerRecipient('utility', utilityRecipient('heat'));
    expect((await directory.list()).map((r) => r.memberId)).toContain(heat.id);
    await t.http
      .post(`/v1/members/${heat.id}/suspend`)
      .set('authorization', await admin.auth())
      .send({ reason: '测试' })
      .expect(200);
    expect((await directory.list()).map((r) => r.memberId)).not.toContain(heat.id);
    expect(await directory.resolve('heat')).toMatchObject({ memberId: heat.id, state: 'suspended' });
  });
});
