import { generateKeyPairSync } from 'node:crypto';
import { createDatarunClient, DatarunProblem, UNEXPECTED_RESPONSE } from './index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const hall = { member: 'zj.test.hall', kid: 'hall-k1', privateKey, actor: 'clerk-0042' };

/** A fake server: records each request and answers with `answer`. */
function fakeServer(answer: (request: Request) => Response = () => Response.json({ items: [] })) {
  const requests: Request[] = [];
  return {
    requests,
    fetch: async (request: Request) => {
      requests.push(request);
      return answer(request);
    },
  };
}

function claimsOf(authorization: string | null): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = (authorization ?? '').replace(/^Bearer /, '').split('.');
  const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: decode(header), payload: decode(payload) };
}

describe('createDatarunClient', () => {
  it('signs each call as the member and the acting person, with a fresh x-request-id', async () => {
    const server = fakeServer();
    const client = createDatarunClient({ registry: 'http://registry.test' }, hall, { fetch: server.fetch });
    await client.registry.GET('/v1/matters');
    await client.registry.GET('/v1/grants', { params: { query: { state: 'approved' } } });

    const [first, second] = server.requests;
    expect(first.url).toBe('http://registry.test/v1/matters');
    expect(second.url).toBe('http://registry.test/v1/grants?state=approved');
    const { header, payload } = claimsOf(first.headers.get('authorization'));
    expect(header).toMatchObject({ alg: 'ES256', kid: 'hall-k1' });
    expect(payload).toMatchObject({ iss: 'zj.test.hall', sub: 'clerk-0042', aud: 'datarun' });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(300);
    expect(first.headers.get('x-request-id')).toMatch(UUID);
    expect(second.headers.get('x-request-id')).toMatch(UUID);
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
  });

  it('keeps a token until a minute before it expires, then mints another', async () => {
    let clock = Date.parse('2026-03-01T09:00:00Z');
    const server = fakeServer();
    const client = createDatarunClient({ registry: 'http://registry.test' }, { ...hall, lifetimeSec: 300 }, { fetch: server.fetch, now: () => clock });
    await client.registry.GET('/v1/matters');
    clock += 239_000;
    await client.registry.GET('/v1/matters');
    clock += 1_000; // 240 s after minting: 60 s left
    await client.registry.GET('/v1/matters');

    const tokens = server.requests.map((r) => r.headers.get('authorization'));
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
    expect(claimsOf(tokens[2]).payload.iat).toBe(Date.parse('2026-03-01T09:04:00Z') / 1000);
  });

  it('mints one token for calls made at the same moment', async () => {
    const server = fakeServer();
    const client = createDatarunClient({ registry: 'http://registry.test' }, hall, { fetch: server.fetch });
    await Promise.all([client.registry.GET('/v1/matters'), client.registry.GET('/v1/catalog'), client.token()]);
    expect(new Set(server.requests.map((r) => r.headers.get('authorization'))).size).toBe(1);
  });

  it("keeps the caller's own x-request-id, so a hall system's id follows the case", async () => {
    const server = fakeServer();
    const client = createDatarunClient({ registry: 'http://registry.test' }, hall, { fetch: server.fetch });
    await client.registry.GET('/v1/matters', { headers: { 'x-request-id': 'hall-4711' } });
    expect(server.requests[0].headers.get('x-request-id')).toBe('hall-4711');
  });

  it('answers the parsed body of a success', async () => {
    const server = fakeServer(() => Response.json({ items: [{ code: 'property-transfer' }] }));
    const client = createDatarunClient({ registry: 'http://registry.test' }, hall, { fetch: server.fetch });
    await expect(client.registry.GET('/v1/matters')).resolves.toEqual({ items: [{ code: 'property-transfer' }] });
  });

  it('rejects a problem+json answer with a DatarunProblem: code, status, detail, correlation id, extensions', async () => {
    const body = {
      type: 'urn:datarun:problem:schema-incompatible',
      title: 'The schema version would break current readers',
      status: 400,
      detail: 'field name removed',
      code: 'SCHEMA_INCOMPATIBLE',
      correlationId: 'corr-1',
      paths: ['/name'],
    };
    const server = fakeServer(
      () => new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/problem+json', 'x-request-id': 'corr-1' } }),
    );
    const client = createDatarunClient({ registry: 'http://registry.test' }, hall, { fetch: server.fetch });
    const problem = await client.registry.GET('/v1/matters').catch((error: unknown) => error);
    expect(problem).toBeInstanceOf(DatarunProblem);
    expect(problem).toMatchObject({ code: 'SCHEMA_INCOMPATIBLE', status: 400, detail: 'field name removed', requestId: 'corr-1', body });
    expect((problem as DatarunProblem).message).toBe('SCHEMA_INCOMPATIBLE: field name removed');
  });

  it('rejects an answer that is not a problem (a proxy page) with UNEXPECTED_RESPONSE and its first words', async () => {
    const server = fakeServer(() => new Response('<html>\n  502 Bad Gateway\n</html>', { status: 502, statusText: 'Bad Gateway' }));
    const client = createDatarunClient({ registry: 'http://registry.test' }, hall, { fetch: server.fetch });
    await expect(client.registry.GET('/v1/matters')).rejects.toMatchObject({
      code: UNEXPECTED_RESPONSE,
      status: 502,
      detail: '<html> 502 Bad Gateway </html>',
    });
  });

  it('sends bytes as they are, with the content type the call gives', async () => {
    const server = fakeServer(() => Response.json({ type: 'property-certificate' }));
    const client = createDatarunClient({ gateway: 'http://gateway.test' }, hall, { fetch: server.fetch });
    const pdf = Buffer.from('%PDF-1.7 不动产权证书');
    await client.gateway.PUT('/v1/cases/{id}/materials/{type}', {
      params: { path: { id: '0d9c4b9e-8f7a-4c3e-9a51-3f0c2f6d1a20', type: 'property-certificate' } },
      body: new Blob([pdf]),
      headers: { 'content-type': 'application/pdf' },
    });
    const [request] = server.requests;
    expect(request.method).toBe('PUT');
    expect(request.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await request.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it('fails the call, not the process, when the key cannot sign, and tries again on the next call', async () => {
    const server = fakeServer();
    let signingAttempts = 0;
    const broken = {
      ...hall,
      get privateKey() {
        signingAttempts += 1;
        return 'not a key';
      },
    };
    const client = createDatarunClient({ registry: 'http://registry.test' }, broken, { fetch: server.fetch });
    await expect(client.registry.GET('/v1/matters')).rejects.toThrow(/private key/);
    await expect(client.registry.GET('/v1/matters')).rejects.toThrow(/private key/);
    expect(signingAttempts).toBe(2);
    expect(server.requests).toHaveLength(0);
  });
});

// Compile-time checks (npm run typecheck): paths, parameters and apps come from the OpenAPI documents.
export function typeChecks(): void {
  const registryOnly = createDatarunClient({ registry: 'http://registry.test' }, hall);
  // @ts-expect-error: the registry documents no such path
  void registryOnly.registry.GET('/v1/no-such-path');
  // @ts-expect-error: grants are filtered by a documented state
  void registryOnly.registry.GET('/v1/grants', { params: { query: { state: 'maybe' } } });
  // @ts-expect-error: a client made for the registry has no gateway
  void registryOnly.gateway;
}
