// The gateway as several processes on one port (GATEWAY_WORKERS, node:cluster), from the build:
// requests spread over the workers, and a scrape of /metrics, whichever worker answers it, counts
// every request of every worker (the primary sums them).
import http from 'node:http';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { envOf, startAppProcess, type AppProcess } from '../support/processes.js';

const REQUESTS = 40;

/** One request on a connection of its own (no keep-alive), so that the cluster may hand each to another worker. */
function getOnNewConnection(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The sum of a counter's samples whose labels contain `labels`. */
function sumOf(text: string, name: string, labels: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('the gateway on two workers', () => {
  let db: TestDatabase;
  let gateway: AppProcess | undefined;

  beforeAll(async () => {
    db = await migratedDatabase();
  }, 60_000);
  afterAll(async () => {
    await gateway?.stop();
    await db?.drop();
  });

  it('spreads requests over both workers and counts all of them on /metrics, whichever worker answers the scrape', async () => {
    gateway = await startAppProcess('gateway', envOf(db.config, { GATEWAY_WORKERS: '2' }), 'GATEWAY_PORT');
    expect(gateway.output()).toContain('starting 2 worker processes');

    for (let i = 0; i < REQUESTS; i += 1) expect((await getOnNewConnection(`${gateway.url}/openapi.json`)).status).toBe(200);

    // Each scrape, on a connection of its own, may reach either worker: all agree on the sum, and
    // the per-process default metrics show both workers took part.
    for (let i = 0; i < 6; i += 1) {
      const scrape = await getOnNewConnection(`${gateway.url}/metrics`);
      expect(scrape.status).toBe(200);
      expect(sumOf(scrape.body, 'http_request_duration_seconds_count', 'route="/openapi.json"')).toBe(REQUESTS);
    }
  }, 120_000);
});
