// An audit append cannot hang: with the chain head locked by someone else, or with PostgreSQL no
// longer answering, an append fails with AUDIT_UNAVAILABLE (the 503 of every audited answer)
// within its timeout, and appends work again once the lock is released or the database is back.
import net from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog, type AuditEventInput, verifyAuditLog } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const TIMEOUT_MS = 300;
const event: AuditEventInput = { memberId: 'zj.hall', actor: 'clerk', action: 'lookup', decision: 'allowed', sourceId: 'marriage' };
const unavailable = { code: 'AUDIT_UNAVAILABLE', status: 503 };

/** Forwards to PostgreSQL until stalled: then holds what the app sends, as a database that stopped answering. */
class StallingProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private stalled = false;
  private readonly held: Array<() => void> = [];
  port = 0;

  constructor(private readonly target: URL) {}

  async start(): Promise<void> {
    this.server = net.createServer((app) => {
      const db = net.connect(Number(this.target.port || 5432), this.target.hostname);
      for (const s of [app, db]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      app.on('data', (chunk) => (this.stalled ? this.held.push(() => db.write(chunk)) : db.write(chunk)));
      db.pipe(app);
      app.on('close', () => db.destroy());
      db.on('close', () => app.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
    for (const send of this.held.splice(0)) send();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('an audit append that cannot get through', () => {
  let db: TestDatabase;
  let app: DataSource;
  let log: AuditLog;

  beforeAll(async () => {
    db = await migratedDatabase();
    app = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    log = new AuditLog(app, { appendTimeoutMs: TIMEOUT_MS });
  });
  afterAll(async () => {
    await app?.destroy();
    await db?.drop();
  });

  it('answers AUDIT_UNAVAILABLE while the chain head is locked, and appends once it is released', async () => {
    const holder = new pg.Client({ connectionString: db.config.database.ownerUrl, options: `-c search_path=${db.config.database.schema}` });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT seq FROM audit_chain_head WHERE chain_id = 1 FOR UPDATE');

      await expect(log.append(event)).rejects.toMatchObject(unavailable);
      await expect(app.transaction((em) => log.appendWithin(em, event))).rejects.toMatchObject(unavailable);
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }

    await log.append(event);
    // The caller's transaction gets its own timeouts back after an append within it.
    const timeouts = `SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement`;
    const [before, after] = await app.transaction(async (em) => {
      const [settings] = await em.query(timeouts);
      await log.appendWithin(em, event);
      return [settings, (await em.query(timeouts))[0]];
    });
    expect(after).toEqual(before);
    expect(after.lock).not.toBe(`${TIMEOUT_MS}ms`);
    expect(await verifyAuditLog(app, { trustedKey: key.publicKey })).toMatchObject({ ok: true, checked: 2, lastSeq: 2 });
  });

  it('answers AUDIT_UNAVAILABLE while PostgreSQL does not answer, and appends once it does', async () => {
    const proxy = new StallingProxy(new URL(db.config.database.url));
    await proxy.start();
    const url = new URL(db.config.database.url);
    url.port = String(proxy.port);
    const viaProxy = await new DataSource(dataSourceOptions({ ...db.config.database, url: url.toString() }, 'app')).initialize();
    try {
      const proxied = new AuditLog(viaProxy, { appendTimeoutMs: TIMEOUT_MS });
      await proxied.append(event); // a pooled connection, idle when the database stops answering
      proxy.stall();
      await expect(proxied.append(event)).rejects.toMatchObject(unavailable);
      proxy.resume();
      await proxied.append(event);
      expect(await verifyAuditLog(app, { trustedKey: key.publicKey })).toMatchObject({ ok: true, lastSeq: 4 });
    } finally {
      await viaProxy.destroy();
      await proxy.close();
    }
  });
});
