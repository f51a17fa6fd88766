import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { RequestContext } from '@datarun/request-context';
import { pinoHttp } from 'pino-http';
import { requestLogging } from './logging.js';

/** The app's real logger options, writing JSON lines to memory instead of stdout. */
function capturedLogger(auditedRoutes: readonly string[] = []) {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString('utf8'));
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { http: pinoHttp({ ...requestLogging('gateway', 'info', auditedRoutes), stream: sink }), lines, raw };
}

describe('requestLogging', () => {
  it('puts the request context’s correlation id and member on a line written inside it, never the acting person', () => {
    const { http, lines } = capturedLogger();
    RequestContext.run('4bf92f3577b34da6a3ce929d0e0e4736', () => {
      RequestContext.attachCaller({ memberId: 'zj.hall', role: 'citizen', actor: '330802199001011234' } as never);
      http.logger.warn('status dead-lettered');
    });
    http.logger.info('the relay is now the active outbox publisher');
    expect(lines[0]).toMatchObject({ msg: 'status dead-lettered', correlationId: '4bf92f3577b34da6a3ce929d0e0e4736', member: 'zj.hall' });
    expect(JSON.stringify(lines[0])).not.toContain('330802199001011234');
    // Outside any request or message there is no id to give, and none is made up.
    expect(lines[1]).not.toHaveProperty('correlationId');
  });

  it('names the id on the request’s own line, written after the answer left the context, once', async () => {
    const { http, lines, raw } = capturedLogger();
    const server = createServer((req, res) => {
      req.id = 'hall-4711';
      RequestContext.run('hall-4711', () => {
        http(req, res);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/cases?subject=330802199001011234`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const line = lines.find((l) => l.msg === 'request completed');
    expect(line).toMatchObject({ correlationId: 'hall-4711', req: { id: 'hall-4711', method: 'GET', path: '/v1/cases' } });
    expect(JSON.stringify(line)).not.toContain('330802199001011234');
    // One key, not the mixin's and the line's side by side (a JSON reader would keep either).
    expect(raw[lines.indexOf(line!)].match(/"correlationId"/g)).toHaveLength(1);
  });

  it('writes no info line for a successful request to an audited route, but does for its refusals and failures and for other routes', async () => {
    const { http, lines } = capturedLogger(['POST /v1/lookups']);
    const server = createServer((req, res) => {
      http(req, res);
      res.statusCode = Number(req.headers['x-answer']);
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const call = (method: string, path: string, status: number) =>
      fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, { method, headers: { 'x-answer': String(status) } }).then((r) => r.text());
    try {
      await call('POST', '/v1/lookups', 200);
      await call('POST', '/v1/lookups?x=1', 200);
      await call('POST', '/v1/lookups', 403);
      await call('POST', '/v1/lookups', 503);
      await call('POST', '/v1/cases', 201);
      await call('GET', '/v1/lookups', 200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const requests = lines
      .filter((l) => l.req)
      .map((l) => [l.level, (l.req as { method: string }).method, (l.req as { path: string }).path, (l.res as { statusCode: number }).statusCode]);
    expect(requests).toEqual([
      [30, 'POST', '/v1/lookups', 403],
      [50, 'POST', '/v1/lookups', 503],
      [30, 'POST', '/v1/cases', 201],
      [30, 'GET', '/v1/lookups', 200],
    ]);
  });
});
