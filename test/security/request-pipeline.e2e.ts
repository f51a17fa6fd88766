// Hardening item 4: nothing is read before the caller is known. Before, the body of every request
// was read (up to 10 MB of any material type, on any route) before its token was looked at, one
// bucket served every citizen, and nothing limited a stranger before the token was verified.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { mintToken } from '@datarun/auth';
import type { DatarunConfig } from '@datarun/config';
import { MemberKeyDirectory } from '@datarun/registry';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { withAuditSigningKey } from '../support/audit-keys.js';
import { buildCity, type City } from '../support/exchange.js';
import { keyPair, memberWithKey } from '../support/members.js';
import { sha256, transferCaseBody } from '../support/transfers.js';

const MB = 1024 * 1024;

/** A PDF by its magic number, padded to `bytes`. */
const pdfOf = (bytes: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(bytes - 9, 0x20)]);

interface EarlyAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  /** Bytes of the body sent when the answer came. */
  readonly sent: number;
}

/**
 * Sends the headers of a request announcing `length` bytes of body and then only `first` of them,
 * and waits for the answer: the server can only answer now if it did not wait for the body.
 */
function answerBeforeBody(port: number, path: string, headers: Record<string, string>, length: number, first: number): Promise<EarlyAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': String(length) } });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), sent: first });
        request.destroy();
      });
    });
    request.write(Buffer.alloc(first, 0x20));
  });
}

describe('the request pipeline', () => {
  let city: City;
  let port: number;
  let citizenToken: (idNumber: string) => Promise<string>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datarun-pipeline-'));
    const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'idp.pub.pem'), idp.publicKey.export({ type: 'spki', format: 'pem' }));
    citizenToken = async (idNumber) =>
      `Bearer ${await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: idNumber })}`;
    city = await buildCity(20, { DATARUN_CITIZEN_IDP_PUBLIC_KEY: join(dir, 'idp.pub.pem') });
    await city.gateway.app.listen({ port: 0, host: '127.0.0.1' });
    port = (city.gateway.app.getHttpServer().address() as AddressInfo).port;
  }, 120_000);
  afterAll(() => city?.close());

  /** The gateway with other limits, on the same database. */
  const gatewayWith = (rateLimit: Partial<DatarunConfig['rateLimit']>) =>
    bootApp(GatewayModule.forRoot({ ...city.db.config, rateLimit: { ...city.db.config.rateLimit, ...rateLimit } }), 'gateway');

  describe('a body is read only for a known caller', () => {
    it('answers a 9 MB PDF without a token 401 while most of it is still unsent, and closes the connection', async () => {
      const answer = await answerBeforeBody(port, '/v1/lookups', { 'content-type': 'application/pdf' }, 9 * MB, 64 * 1024);
      expect(answer.status).toBe(401);
      expect(answer.body.code).toBe('TOKEN_MISSING');
      expect(answer.headers.connection).toBe('close');
      expect(answer.sent).toBeLessThan(9 * MB);
    });

    it('answers a department posting a body to a consumer route 403 before it sends the body', async () => {
      const answer = await answerBeforeBody(
        port,
        '/v1/lookups',
        { 'content-type': 'application/json', authorization: await city.departments.household.auth() },
        1 * MB,
        1024,
      );
      expect(answer.status).toBe(403);
      expect(answer.body.code).toBe('ROLE_FORBIDDEN');
    });

    it('answers a known caller announcing 11 MB to lookups 413 from its Content-Length, and closes the connection', async () => {
      const answer = await answerBeforeBody(port, '/v1/lookups', { 'content-type': 'application/json', authorization: await city.hall.auth() }, 11 * MB, 1024);
      expect(answer.status).toBe(413);
      expect(answer.body.code).toBe('PAYLOAD_TOO_LARGE');
      expect(answer.headers.connection).toBe('close');
    });

    it('answers an unknown path 404 without reading its body', async () => {
      const answer = await answerBeforeBody(port, '/v1/no-such-route', { 'content-type': 'application/json' }, 1 * MB, 1024);
      expect(answer.status).toBe(404);
      expect(answer.body.code).toBe('NOT_FOUND');
    });
  });

  describe('each route has its body limit', () => {
    it('refuses 11 MB on lookups and a 9 MB PDF on lookups (413), and takes a 9 MB material upload', async () => {
      const hall = await city.hall.auth();
      const tooBig = await city.gateway.http
        .post('/v1/lookups')
        .set('authorization', hall)
        .set('content-type', 'application/json')
        .send(`{"source":"${'x'.repeat(11 * MB)}"}`)
        .expect(413);
      expect(tooBig.body.code).toBe('PAYLOAD_TOO_LARGE');
      const pdfOnLookups = await city.gateway.http
        .post('/v1/lookups')
        .set('authorization', hall)
        .set('content-type', 'application/pdf')
        .send(pdfOf(9 * MB))
        .expect(413);
      expect(pdfOnLookups.body.code).toBe('PAYLOAD_TOO_LARGE');

      const material = pdfOf(9 * MB);
      const opened = await city.gateway.http
        .post('/v1/cases')
        .set('authorization', hall)
        .send(
          transferCaseBody(
            { city },
            {
              unit: 'PIPE-1',
              accounts: { water: 'W-PIPE-1', electricity: 'E-PIPE-1', gas: 'G-PIPE-1' },
              materials: [{ type: 'property-certificate', sha256: sha256(material) }],
            },
          ),
        )
        .expect(201);
      await city.gateway.http
        .put(`/v1/cases/${opened.body.id}/materials/property-certificate`)
        .set('authorization', hall)
        .set('content-type', 'application/pdf')
        .send(material)
        .expect(200);
    });
  });

  describe('slow clients', () => {
    it('meet the configured headers, request, connection and keep-alive timeouts (none before: Fastify disables the request timeout)', async () => {
      const limits = { ...city.db.config.http, headersTimeoutMs: 7000, requestTimeoutMs: 9000, connectionTimeoutMs: 11_000, keepAliveTimeoutMs: 13_000 };
      const t = await bootApp(GatewayModule.forRoot({ ...city.db.config, http: limits }), 'gateway');
      try {
        const server = t.app.getHttpServer() as http.Server;
        expect({ headers: server.headersTimeout, request: server.requestTimeout, connection: server.timeout, keepAlive: server.keepAliveTimeout }).toEqual({
          headers: 7000,
          request: 9000,
          connection: 11_000,
          keepAlive: 13_000,
        });
      } finally {
        await t.close();
      }
    });
  });

  describe('rate limits', () => {
    it('limits a remote address before its token is verified (429 for requests without a token)', async () => {
      // A bucket that does not refill within the test: no timing involved.
      const limited = await gatewayWith({ perAddress: { perSecond: 0.001, burst: 2 } });
      try {
        for (let i = 0; i < 2; i += 1) expect((await limited.http.post('/v1/lookups').send({}).expect(401)).body.code).toBe('TOKEN_MISSING');
        const refused = await limited.http.post('/v1/lookups').send({}).expect(429);
        expect(refused.body.code).toBe('RATE_LIMITED');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        // A valid token does not get past it either: the address is limited before the token is looked at.
        await limited.http
          .post('/v1/lookups')
          .set('authorization', await city.hall.auth())
          .send({})
          .expect(429);
      } finally {
        await limited.close();
      }
    });

    it('gives each citizen a bucket of their own', async () => {
      const config = { ...city.db.config, rateLimit: { ...city.db.config.rateLimit, perSecond: 0.001, burst: 1 } };
      const audit: TestApp = await bootApp(AuditAppModule.forRoot(withAuditSigningKey(config)), 'audit');
      try {
        const [first, second] = city.people;
        await audit.http
          .get('/v1/me/access-log')
          .set('authorization', await citizenToken(first.idNumber))
          .expect(200);
        const refused = await audit.http
          .get('/v1/me/access-log')
          .set('authorization', await citizenToken(first.idNumber))
          .expect(429);
        expect(refused.body.code).toBe('RATE_LIMITED');
        expect(refused.body.detail).not.toContain(first.idNumber);
        // Before, every citizen shared the identity provider's one bucket: the second was refused too.
        await audit.http
          .get('/v1/me/access-log')
          .set('authorization', await citizenToken(second.idNumber))
          .expect(200);
      } finally {
        await audit.close();
      }
    });
  });

  describe('caller-controlled strings that the audit record would keep', () => {
    it.each([
      ['purpose', { purpose: 'property-transfer\u202e' }],
      ['source', { source: 'household\u0000' }],
      ['purpose', { purpose: 'x'.repeat(65) }],
    ])('a lookup whose %s is not of its shape: 400 naming it, nothing audited', async (field, odd) => {
      const res = await city.gateway.http
        .post('/v1/lookups')
        .set('authorization', await city.hall.auth())
        .send({ source: 'household', subject: { idNumber: city.people[0].idNumber }, purpose: 'property-transfer', caseId: randomUUID(), ...odd })
        .expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining(`/${field}`) });
      expect(await city.auditRows(`correlation_id = '${String(res.body.correlationId)}'`)).toEqual([]);
    });
  });

  describe('an unknown issuer', () => {
    it('costs one directory read, not one per token', async () => {
      const directory = city.gateway.app.get(MemberKeyDirectory, { strict: false });
      const reads = jest.spyOn(directory as unknown as { load: (id: string) => Promise<unknown> }, 'load');
      try {
        const stranger = memberWithKey('zj.test.nobody-registered', 'consumer', keyPair());
        for (let i = 0; i < 5; i += 1) {
          const res = await city.gateway.http
            .post('/v1/lookups')
            .set('authorization', await stranger.auth(`clerk-${i}`))
            .send({})
            .expect(401);
          expect(res.body.code).toBe('TOKEN_INVALID');
        }
        expect(reads.mock.calls.filter(([id]) => id === 'zj.test.nobody-registered')).toHaveLength(1);
      } finally {
        reads.mockRestore();
      }
    });
  });
});
