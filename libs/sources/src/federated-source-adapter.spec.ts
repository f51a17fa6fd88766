import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PlatformCallSigner, verifyPlatformCall } from '@datarun/auth';
import { EgressPolicy } from '@datarun/egress';
import { Problem } from '@datarun/problems';
import { mintCorrelationId, RequestContext, traceIdOf } from '@datarun/request-context';
import { RecordSchemaGuard } from '@datarun/schemas';
import { FederatedSourceAdapter } from './federated-source-adapter.js';
import type { SourceDescriptor } from './source-adapter.js';
import { eventually } from '../../../test/support/eventually.js';

// Real HTTP departments on 127.0.0.1, one per test: the adapter meets sockets, not mocks. The
// egress allowlist lets it reach any loopback port (the departments' ports are the kernel's choice).
const LOOPBACK = EgressPolicy.of(['127.0.0.1:*']);

const MARRIAGE_SCHEMA = JSON.parse(readFileSync(join(process.cwd(), 'schemas', 'records', 'marriage.json'), 'utf8')) as object;
const compiled = new RecordSchemaGuard().compile(MARRIAGE_SCHEMA);

const SUBJECT = '330825199001011237';
const RECORD = { idNumber: SUBJECT, name: '王建国', maritalStatus: 'married', spouseIdNumber: '330825199202021247', spouseName: '李秀英' };

interface Department {
  readonly endpoint: string;
  /** Paths of the requests the department received, in order. */
  readonly requests: string[];
  readonly headers: IncomingMessage['headers'][];
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function department(handle: (req: IncomingMessage, res: ServerResponse, index: number) => void): Promise<Department> {
  const requests: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    headers.push(req.headers);
    handle(req, res, requests.length - 1);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}/v1/departments/marriage`, requests, headers, close: () => new Promise((r) => server.close(() => r())) };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

function source(endpoint: string | null, id = 'marriage'): SourceDescriptor {
  return { id, owner: 'zj.quzhou.civil-affairs', mode: 'federated', endpoint, subjectKey: 'idNumber', schemaVersion: 3, validate: (r) => compiled.validate(r) };
}

async function problemOf(promise: Promise<unknown>): Promise<Problem> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Problem);
  return error as Problem;
}

describe('FederatedSourceAdapter', () => {
  it('answers a good record with provenance, asking the department by subject with the correlation id', async () => {
    const dept = await department((_req, res) => json(res, 200, RECORD));
    const now = Date.parse('2026-06-30T02:00:00Z');
    const adapter = new FederatedSourceAdapter({ egress: LOOPBACK, now: () => now });
    const fetched = await adapter.fetch(source(dept.endpoint), SUBJECT, { correlationId: 'corr-42' });
    expect(fetched).toEqual({ data: RECORD, retrievedAt: new Date(now), schemaVersion: 3 });
    expect(fetched).not.toHaveProperty('asOf');
    expect(dept.requests).toEqual([`/v1/departments/marriage/records/${SUBJECT}`]);
    expect(dept.headers[0]).toMatchObject({ accept: 'application/json', 'x-request-id': 'corr-42' });
  });

  it('carries the request context’s correlation id to the department, as a traceparent of the same trace too', async () => {
    const dept = await department((_req, res) => json(res, 200, RECORD));
    const id = mintCorrelationId();
    await RequestContext.run(id, () => new FederatedSourceAdapter({ egress: LOOPBACK }).fetch(source(dept.endpoint), SUBJECT));
    expect(dept.headers[0]['x-request-id']).toBe(id);
    expect(traceIdOf(dept.headers[0].traceparent as string)).toBe(id);
  });

  it('encodes the subject into one path segment', async () => {
    const dept = await department((_req, res) => json(res, 404, {}));
    await new FederatedSourceAdapter({ egress: LOOPBACK }).fetch(source(`${dept.endpoint}/`), '../a b?c');
    expect(dept.requests).toEqual(['/v1/departments/marriage/records/..%2Fa%20b%3Fc']);
  });

  it('answers null when the department has no record (404)', async () => {
    const dept = await department((_req, res) => json(res, 404, { code: 'RECORD_NOT_FOUND' }));
    await expect(new FederatedSourceAdapter({ egress: LOOPBACK }).fetch(source(dept.endpoint), SUBJECT)).resolves.toBeNull();
    expect(new FederatedSourceAdapter({ egress: LOOPBACK }).circuitState('marriage')).toBe('closed');
  });

  it('gives up on a slow department at its timeout with SOURCE_TIMEOUT', async () => {
    const timers: NodeJS.Timeout[] = [];
    const dept = await department((_req, res) => timers.push(setTimeout(() => json(res, 200, RECORD), 3000)));
    try {
      const problem = await problemOf(new FederatedSourceAdapter({ egress: LOOPBACK, timeoutMs: 200 }).fetch(source(dept.endpoint), SUBJECT));
      expect(problem.code).toBe('SOURCE_TIMEOUT');
      expect(problem.status).toBe(504);
      // It asked once (a timeout is not retried) and did not wait for the answer.
      expect(dept.requests).toHaveLength(1);
    } finally {
      timers.forEach(clearTimeout);
    }
  });

  it('refuses a record that breaks the schema without repeating its values', async () => {
    const broken = { ...RECORD, maritalStatus: 'it-is-complicated', bankAccount: '6222020200112233445' };
    const dept = await department((_req, res) => json(res, 200, broken));
    const problem = await problemOf(new FederatedSourceAdapter({ egress: LOOPBACK }).fetch(source(dept.endpoint), SUBJECT));
    expect(problem.code).toBe('SOURCE_RESPONSE_INVALID');
    expect(problem.status).toBe(502);
    expect(problem.detail).toBe('the department answered a record that breaks schema version 3 of marriage');
    const shown = JSON.stringify({ detail: problem.detail, message: problem.message, extensions: problem.extensions });
    for (const value of Object.values(broken)) expect(shown).not.toContain(value);
  });

  it('refuses a valid record of another subject', async () => {
    const dept = await department((_req, res) => json(res, 200, { ...RECORD, idNumber: '330825199202021247' }));
    const problem = await problemOf(new FederatedSourceAdapter({ egress: LOOPBACK }).fetch(source(dept.endpoint), SUBJECT));
    expect(problem.code).toBe('SOURCE_RESPONSE_INVALID');
    expect(problem.detail).not.toContain('330825199202021247');
  });

  it.each([
    ['invalid JSON', (res: ServerResponse) => res.end('{"idNumber": "3308')],
    ['JSON that is not an object', (res: ServerResponse) => res.end('[1, 2]')],
    ['a body over the cap', (res: ServerResponse) => res.end(JSON.stringify({ ...RECORD, name: 'x'.repeat(2048) }))],
    ['a declared length over the cap', (res: ServerResponse) => res.end()],
    [
      'a body over the cap in many chunks',
      (res: ServerResponse) => {
        res.write('{"name": "');
        for (let i = 0; i < 8; i++) res.write('x'.repeat(512));
        res.end('"}');
      },
    ],
  ])('refuses %s with SOURCE_RESPONSE_INVALID', async (name, answer) => {
    const dept = await department((_req, res) => {
      // Without a content-length Node sends these chunked; the adapter counts what arrives.
      res.writeHead(200, { 'content-type': 'application/json', ...(name.startsWith('a declared') ? { 'content-length': '4096' } : {}) });
      answer(res);
    });
    const problem = await problemOf(new FederatedSourceAdapter({ egress: LOOPBACK, maxBodyBytes: 1024 }).fetch(source(dept.endpoint), SUBJECT));
    expect(problem.code).toBe('SOURCE_RESPONSE_INVALID');
  });

  it('retries a 503 once and answers what the second attempt got', async () => {
    const dept = await department((_req, res, index) => (index === 0 ? json(res, 503, { error: 'busy' }) : json(res, 200, RECORD)));
    const fetched = await new FederatedSourceAdapter({ egress: LOOPBACK, retries: 1, retryDelayMs: 10 }).fetch(source(dept.endpoint), SUBJECT);
    expect(fetched?.data).toEqual(RECORD);
    expect(dept.requests).toHaveLength(2);
  });

  it('answers SOURCE_UNAVAILABLE when 5xx outlasts the retries', async () => {
    const dept = await department((_req, res) => json(res, 500, {}));
    const problem = await problemOf(new FederatedSourceAdapter({ egress: LOOPBACK, retries: 2, retryDelayMs: 5 }).fetch(source(dept.endpoint), SUBJECT));
    expect(problem.code).toBe('SOURCE_UNAVAILABLE');
    expect(dept.requests).toHaveLength(3);
  });

  it('does not retry other statuses, and does not follow redirects', async () => {
    const dept = await department((_req, res, index) => {
      res.writeHead(index === 0 ? 401 : 302, { location: 'http://127.0.0.1:1/elsewhere' });
      res.end();
    });
    const adapter = new FederatedSourceAdapter({ egress: LOOPBACK, retries: 3, retryDelayMs: 5 });
    expect((await problemOf(adapter.fetch(source(dept.endpoint), SUBJECT))).code).toBe('SOURCE_UNAVAILABLE');
    expect((await problemOf(adapter.fetch(source(dept.endpoint), SUBJECT))).code).toBe('SOURCE_UNAVAILABLE');
    expect(dept.requests).toHaveLength(2);
  });

  it('answers SOURCE_UNAVAILABLE when the connection is refused', async () => {
    const dept = await department((_req, res) => json(res, 200, RECORD));
    await dept.close(); // the port is free now: nobody listens there
    const problem = await problemOf(new FederatedSourceAdapter({ egress: LOOPBACK, retries: 1, retryDelayMs: 5 }).fetch(source(dept.endpoint), SUBJECT));
    expect(problem.code).toBe('SOURCE_UNAVAILABLE');
    expect(problem.status).toBe(502);
  });

  it('answers SOURCE_UNAVAILABLE for a source without an endpoint', async () => {
    expect((await problemOf(new FederatedSourceAdapter({ egress: LOOPBACK }).fetch(source(null), SUBJECT))).code).toBe('SOURCE_UNAVAILABLE');
  });

  it('calls nowhere without an egress policy, nor off the allowlist, and says so without the remote’s words', async () => {
    const dept = await department((_req, res) => json(res, 200, RECORD));
    for (const adapter of [new FederatedSourceAdapter(), new FederatedSourceAdapter({ egress: EgressPolicy.of(['127.0.0.1:1']) })]) {
      const problem = await problemOf(adapter.fetch(source(dept.endpoint), SUBJECT));
      expect(problem).toMatchObject({
        code: 'SOURCE_UNAVAILABLE',
        detail: 'the endpoint of marriage is outside the egress allowlist; datarun did not call it',
      });
    }
    expect(dept.requests).toEqual([]);
  });

  it('signs each call for the source with the platform key: purpose, case, acting person and correlation id', async () => {
    const dept = await department((_req, res) => json(res, 200, RECORD));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const adapter = new FederatedSourceAdapter({ egress: LOOPBACK, identity: new PlatformCallSigner({ kid: 'platform', privateKey }) });
    const caller = { member: 'zj.demo.service-hall', actor: 'clerk-7', purpose: 'property-transfer', caseId: 'c-1' };
    await adapter.fetch(source(dept.endpoint), SUBJECT, { correlationId: 'corr-7', caller });
    const path = `/v1/departments/marriage/records/${SUBJECT}`;
    const keys = new Map([['platform', createPublicKey(privateKey)]]);
    const claims = await verifyPlatformCall(dept.headers[0].authorization, keys, { audience: 'marriage', request: { method: 'GET', path } });
    expect(claims).toEqual({ audience: 'marriage', ...caller, correlationId: 'corr-7', method: 'GET', url: `${dept.endpoint}/records/${SUBJECT}` });
  });

  describe('circuit breaker', () => {
    it('opens after consecutive failures, fails at once while open, and closes after a good half-open trial', async () => {
      let healthy = false;
      const dept = await department((_req, res) => (healthy ? json(res, 200, RECORD) : json(res, 503, {})));
      let now = Date.parse('2026-06-30T02:00:00Z');
      const adapter = new FederatedSourceAdapter({ egress: LOOPBACK, retries: 0, breakerThreshold: 3, breakerOpenMs: 10_000, now: () => now });
      const marriage = source(dept.endpoint);

      for (let i = 0; i < 3; i++) expect((await problemOf(adapter.fetch(marriage, SUBJECT))).code).toBe('SOURCE_UNAVAILABLE');
      expect(dept.requests).toHaveLength(3);
      expect(adapter.circuitState('marriage')).toBe('open');
      expect(adapter.circuitState('household')).toBe('closed');

      healthy = true;
      now += 5_000;
      const refused = await problemOf(adapter.fetch(marriage, SUBJECT));
      expect(refused.code).toBe('SOURCE_UNAVAILABLE');
      expect(refused.detail).toContain('circuit open since 2026-06-30T02:00:00.000Z');
      expect(dept.requests).toHaveLength(3); // the department was left alone

      now += 5_000;
      expect(adapter.circuitState('marriage')).toBe('half-open');
      await expect(adapter.fetch(marriage, SUBJECT)).resolves.toMatchObject({ data: RECORD });
      expect(dept.requests).toHaveLength(4);
      expect(adapter.circuitState('marriage')).toBe('closed');
    });

    it('re-opens when the half-open trial fails, and counts timeouts and invalid answers as failures', async () => {
      let answer: 'invalid' | 'slow' | 'good' = 'invalid';
      const timers: NodeJS.Timeout[] = [];
      const dept = await department((_req, res) => {
        if (answer === 'slow') timers.push(setTimeout(() => json(res, 200, RECORD), 3000));
        else json(res, 200, answer === 'good' ? RECORD : { idNumber: SUBJECT });
      });
      let now = 1_000_000;
      const adapter = new FederatedSourceAdapter({ egress: LOOPBACK, timeoutMs: 100, breakerThreshold: 2, breakerOpenMs: 1_000, now: () => now });
      const marriage = source(dept.endpoint);
      try {
        expect((await problemOf(adapter.fetch(marriage, SUBJECT))).code).toBe('SOURCE_RESPONSE_INVALID');
        answer = 'slow';
        expect((await problemOf(adapter.fetch(marriage, SUBJECT))).code).toBe('SOURCE_TIMEOUT');
        expect(adapter.circuitState('marriage')).toBe('open');

        now += 1_000;
        expect(adapter.circuitState('marriage')).toBe('half-open');
        expect((await problemOf(adapter.fetch(marriage, SUBJECT))).code).toBe('SOURCE_TIMEOUT');
        expect(dept.requests).toHaveLength(3);
        expect(adapter.circuitState('marriage')).toBe('open');
        expect((await problemOf(adapter.fetch(marriage, SUBJECT))).detail).toContain(`circuit open since ${new Date(now).toISOString()}`);
        expect(dept.requests).toHaveLength(3);
      } finally {
        timers.forEach(clearTimeout);
      }
    });

    it('lets exactly one trial through while half-open', async () => {
      let release: () => void = () => undefined;
      let failing = true;
      const dept = await department((_req, res) => {
        if (failing) return json(res, 503, {});
        release = () => json(res, 200, RECORD);
      });
      let now = 0;
      const adapter = new FederatedSourceAdapter({ egress: LOOPBACK, retries: 0, breakerThreshold: 1, breakerOpenMs: 100, now: () => now });
      const marriage = source(dept.endpoint);
      await problemOf(adapter.fetch(marriage, SUBJECT));
      failing = false;
      now = 100;
      const trial = adapter.fetch(marriage, SUBJECT);
      expect((await problemOf(adapter.fetch(marriage, SUBJECT))).detail).toContain('circuit open since');
      // Answer the trial only once it has reached the department (release() is a no-op before).
      await eventually('the trial to reach the department', () => dept.requests.length, { until: (n) => n === 2 });
      release();
      await expect(trial).resolves.toMatchObject({ data: RECORD });
      expect(dept.requests).toHaveLength(2);
      expect(adapter.circuitState('marriage')).toBe('closed');
    });
  });
});
