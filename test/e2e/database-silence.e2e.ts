// A database that goes silent (issue 17): connections stay open, nothing answers, nothing is
// refused. node-postgres rejects a query after its query_timeout but keeps the connection, with
// the unanswered query still active on it, so a pool of plain clients never heals once its
// connections went silent; SilenceSafeClient drops such a connection, and the pool opens a fresh
// one when the database answers again. Through the test's TCP proxy, on the suite's PostgreSQL.
import { QUERY_READ_TIMEOUT, SilenceSafeClient } from '@datarun/db';
import pg from 'pg';
import { testConfig } from '../support/infra.js';
import { TcpProxy } from '../support/tcp-proxy.js';

describe('a pool whose connections went silent', () => {
  let proxy: TcpProxy;
  let url: string;

  beforeAll(async () => {
    const direct = new URL(testConfig().database.ownerUrl);
    proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    await proxy.start();
    direct.port = String(proxy.port);
    url = direct.toString();
  });
  afterEach(() => proxy.restore());
  afterAll(() => proxy.cut());

  /**
   * One connection, a query timeout of 300 ms, used as TypeORM uses its pool: a client checked out,
   * queried, and released without an error whatever the query did. The query during the silence
   * and the one after it ends.
   */
  async function afterSilence(Client: typeof pg.Client): Promise<{ during: string; after: string }> {
    const pool = new pg.Pool({ connectionString: url, max: 1, query_timeout: 300, connectionTimeoutMillis: 2000, Client });
    pool.on('error', () => undefined);
    const run = async (sql: string) => {
      const client = await pool.connect();
      client.on('error', () => undefined);
      try {
        return await client.query(sql).then(
          (r) => `answered ${Object.values(r.rows[0] as object)[0]}`,
          (error: Error) => error.message,
        );
      } finally {
        client.release();
      }
    };
    try {
      expect(await run('SELECT 1')).toBe('answered 1');
      proxy.blackhole();
      expect(await proxy.accepts()).toBe(true); // silent, not refused
      const during = await run('SELECT 2');
      proxy.restore();
      const after = await run('SELECT 3');
      return { during, after };
    } finally {
      await Promise.race([pool.end(), new Promise((r) => setTimeout(r, 1000))]);
    }
  }

  it('with plain clients, stays stuck behind the unanswered query after the database answers again', async () => {
    expect(await afterSilence(pg.Client)).toEqual({ during: QUERY_READ_TIMEOUT, after: QUERY_READ_TIMEOUT });
  });

  it('with SilenceSafeClient, drops the silent connection and answers on a fresh one', async () => {
    expect(await afterSilence(SilenceSafeClient)).toEqual({ during: QUERY_READ_TIMEOUT, after: 'answered 3' });
  });
});
