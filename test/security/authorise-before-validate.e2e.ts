// Hardening item 5: authorisation before validation. Before, a caller who may not call a route got
// its body validated first (a department posting a malformed member learnt the schema from a 400),
// and a POST whose body is optional was 400 without one (revoking a grant as documented failed).
import { createApp, PlatformModule, routesOf } from '@datarun/platform';
import { Controller, Module, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { withAuditSigningKey } from '../support/audit-keys.js';
import { buildCity, type City, MATTER } from '../support/exchange.js';
import { testConfig } from '../support/infra.js';

describe('authorisation before validation', () => {
  let city: City;
  let members: () => Promise<number>;
  let sources: () => Promise<number>;

  beforeAll(async () => {
    city = await buildCity(20);
    const count = async (table: string) => Number((await city.db.ownerQuery(`SELECT count(*) FROM ${table}`)).rows[0].count);
    members = () => count('member');
    sources = () => count('source');
  }, 120_000);
  afterAll(() => city?.close());

  describe('a caller who may not call a route gets 403 whatever its body says', () => {
    it.each([
      ['a body that breaks the schema', { id: 42, kind: 'emperor' }],
      ['an empty object', {}],
      ['a valid member', { id: 'zj.test.sneaky', name: 'x', kind: 'admin', jwks: { keys: [] } }],
    ])('a department posting a member (%s): 403 ROLE_FORBIDDEN, nothing stored', async (_, body) => {
      const before = await members();
      const res = await city.registry.http
        .post('/v1/members')
        .set('authorization', await city.departments.household.auth())
        .send(body)
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
      expect(JSON.stringify(res.body)).not.toMatch(/must (be|have|match)/);
      expect(await members()).toBe(before);
      // The refusal of who is asking is audited, as the use case would have: the route, not the body.
      const rows = await city.auditRows(`correlation_id = '${String(res.body.correlationId)}'`);
      expect(rows).toEqual([
        expect.objectContaining({
          id: res.body.auditId,
          decision: 'denied',
          reason: 'ROLE_FORBIDDEN',
          member_id: city.departments.household.id,
          action: 'POST /v1/members',
        }),
      ]);
      expect(JSON.stringify(rows)).not.toContain('emperor');
    });

    it('a department posting a member as JSON that does not parse: 403, not the parser’s 400', async () => {
      const res = await city.registry.http
        .post('/v1/members')
        .set('authorization', await city.departments.household.auth())
        .set('content-type', 'application/json')
        .send('{"id": ')
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
    });

    it('a consumer registering a source with a malformed body: 403, nothing stored', async () => {
      const before = await sources();
      const res = await city.registry.http
        .post('/v1/sources')
        .set('authorization', await city.hall.auth())
        .send({ schema: 'not a schema' })
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
      expect(await sources()).toBe(before);
    });

    it('a department calling a lookup with a malformed body: 403, not 400', async () => {
      const res = await city.gateway.http
        .post('/v1/lookups')
        .set('authorization', await city.departments.property.auth())
        .send({ subject: 'not an object' })
        .expect(403);
      expect(res.body.code).toBe('ROLE_FORBIDDEN');
    });

    it('the caller who may call it still gets 400 for the same body', async () => {
      const res = await city.registry.http
        .post('/v1/members')
        .set('authorization', await city.admin.auth())
        .send({ id: 42, kind: 'emperor' })
        .expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
    });
  });

  it('the JSON parser still refuses a prototype-poisoning body, and an empty required body is 400', async () => {
    const poisoned = await city.registry.http
      .post('/v1/members')
      .set('authorization', await city.admin.auth())
      .set('content-type', 'application/json')
      .send('{"id":"zj.test.poison","__proto__":{"kind":"admin"}}')
      .expect(400);
    expect(poisoned.body.code).toBe('VALIDATION_FAILED');
    const empty = await city.registry.http
      .post('/v1/members')
      .set('authorization', await city.admin.auth())
      .set('content-type', 'application/json')
      .expect(400);
    expect(empty.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: 'the body: must be object' });
  });

  describe('a POST whose body is optional works without one', () => {
    /** A grant of `source`'s names requested by the other service hall; its id. */
    const requestGrant = async (source: string): Promise<string> =>
      (
        await city.registry.http
          .post('/v1/grants')
          .set('authorization', await city.otherHall.auth())
          .send({ source, fields: ['name'], purposes: [MATTER], validUntil: new Date(Date.now() + 86400_000).toISOString(), reason: '无正文的决定' })
          .expect(201)
      ).body.id as string;

    it('approves and revokes a grant with no body at all; a body that is sent is still validated', async () => {
      const id = await requestGrant('household');
      const dept = city.departments.household;

      const wrong = await city.registry.http
        .post(`/v1/grants/${id}/approve`)
        .set('authorization', await dept.auth())
        .send({ note: 42 })
        .expect(400);
      expect(wrong.body.code).toBe('VALIDATION_FAILED');

      const approved = await city.registry.http
        .post(`/v1/grants/${id}/approve`)
        .set('authorization', await dept.auth())
        .expect(200);
      expect(approved.body.state).toBe('approved');
      // …also when a client names JSON and sends nothing.
      const revoked = await city.registry.http
        .post(`/v1/grants/${id}/revoke`)
        .set('authorization', await dept.auth())
        .set('content-type', 'application/json')
        .expect(200);
      expect(revoked.body.state).toBe('revoked');
    });

    it('rejects a grant with no body', async () => {
      const id = await requestGrant('marriage');
      const rejected = await city.registry.http
        .post(`/v1/grants/${id}/reject`)
        .set('authorization', await city.departments.marriage.auth())
        .expect(200);
      expect(rejected.body.state).toBe('rejected');
    });
  });

  describe('every route declares who may call it', () => {
    let audit: TestApp;
    let relay: TestApp;

    beforeAll(async () => {
      audit = await bootApp(AuditAppModule.forRoot(withAuditSigningKey(city.db.config)), 'audit');
      relay = await bootApp(RelayModule.forRoot(city.db.config), 'relay');
    });
    afterAll(async () => {
      await audit?.close();
      await relay?.close();
    });

    it('an app that cannot authenticate a caller does not start with a route that needs one (fail closed)', async () => {
      @ApiTags('operations')
      @Controller('v1/open')
      class Forgotten {
        @Post()
        @ApiOperation({ operationId: 'forgotten', summary: 'A route that forgot to say who may call it' })
        write(): void {}
      }
      @Module({ imports: [PlatformModule.forRoot(testConfig(), { app: 'sandbox', dependencies: [] })], controllers: [Forgotten] })
      class NoAuthentication {}
      await expect(createApp({ module: NoAuthentication }, { name: 'no-auth' })).rejects.toThrow(
        'POST /v1/open needs a caller but the app has no authentication',
      );
    });

    it('with @PublicRoute(), @Roles(…) or @AnyCaller(), in every app that takes tokens', () => {
      const undeclared = [city.gateway, city.registry, audit, relay].flatMap((t) =>
        routesOf(t.app)
          .filter((r) => r.access === undefined && r.method !== 'head')
          .map((r) => `${r.method.toUpperCase()} ${r.url}`),
      );
      expect(undeclared).toEqual([]);
    });
  });
});
