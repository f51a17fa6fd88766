// The `datarun` command line against real apps (listening, called over HTTP with @datarun/client),
// the real database and broker: what an operator at a shell gets on stdout, and the exit codes.
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_MEMBER_ID } from '@datarun/auth';
import { createDatarunClient } from '@datarun/client';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { EXIT } from '../../scripts/cli/command.js';
import { runCli } from '../../scripts/cli/main.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { buildCity, type City, MATTER } from '../support/exchange.js';
import { keyPair } from '../support/members.js';
import { listening } from '../support/transfers.js';

describe('datarun CLI against the running system', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datarun-cli-e2e-'));
  const keyFile = (name: string, key: KeyObject) => {
    const file = join(dir, name);
    writeFileSync(file, key.export({ type: name.endsWith('.pub.pem') ? 'spki' : 'pkcs8', format: 'pem' }));
    return file;
  };
  const auditKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const auditPrivate = keyFile('audit.key.pem', auditKey.privateKey);
  const auditPublic = keyFile('audit.pub.pem', auditKey.publicKey);
  const strangerPublic = keyFile('stranger.pub.pem', keyPair().publicKey);
  let city: City;
  let audit: TestApp;
  let registryUrl: string;
  let auditUrl: string;
  let adminKey: string;
  let hallKey: string;
  let adminAs: string[];

  /** One command line in this process, on the test's own database and broker. */
  async function datarun(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line), config: () => city.db.config });
    return { code, out, err };
  }

  beforeAll(async () => {
    city = await buildCity(30, { DATARUN_AUDIT_SIGNING_KEY: auditPrivate, DATARUN_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.ndjson') });
    audit = await bootApp(AuditAppModule.forRoot(city.db.config), 'audit');
    registryUrl = await listening(city.registry);
    auditUrl = await listening(audit);
    adminKey = keyFile('admin.key.pem', city.admin.privateKey);
    hallKey = keyFile(`${city.hall.kid}.key.pem`, city.hall.privateKey);
    adminAs = ['--member', ADMIN_MEMBER_ID, '--key', adminKey];
  }, 120_000);
  afterAll(async () => {
    await audit?.close();
    await city?.close();
  });

  it('token: stdout is a token the registry accepts, for the member and person named', async () => {
    const minted = await datarun('token', '--member', city.hall.id, '--key', hallKey, '--sub', 'clerk-7');
    expect({ code: minted.code, err: minted.err }).toEqual({ code: EXIT.ok, err: [] });
    expect(minted.out).toHaveLength(1);
    const res = await fetch(`${registryUrl}/v1/grants`, { headers: { authorization: `Bearer ${minted.out[0]}` } });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: Array<{ consumer: string }> };
    expect(items.length).toBe(3);
    expect(new Set(items.map((g) => g.consumer))).toEqual(new Set([city.hall.id]));
    const [, payload] = minted.out[0].split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toMatchObject({ iss: city.hall.id, sub: 'clerk-7' });
  });

  it('members list: every member with its kind and key ids, filtered by kind', async () => {
    const table = await datarun('members', 'list', '--registry', registryUrl, ...adminAs);
    expect({ code: table.code, err: table.err }).toEqual({ code: EXIT.ok, err: [] });
    expect(table.out[0]).toMatch(/^id +kind +state +keys +name$/);
    const rows = table.out.slice(1).map((line) => line.split(/ +/).slice(0, 2));
    expect(rows).toEqual(
      expect.arrayContaining([
        ['datarun.admin', 'admin'],
        [city.hall.id, 'consumer'],
      ]),
    );
    expect(rows.map(([id]) => id)).toEqual(rows.map(([id]) => id).sort());
    const departments = await datarun('members', 'list', '--registry', registryUrl, '--kind', 'department', '--json', ...adminAs);
    const items = (JSON.parse(departments.out[0]) as { items: Array<{ id: string; kind: string }> }).items;
    expect(items.map((m) => m.id).sort()).toEqual(
      Object.values(city.departments)
        .map((d) => d.id)
        .sort(),
    );
    expect(new Set(items.map((m) => m.kind))).toEqual(new Set(['department']));
    const refused = await datarun('members', 'list', '--registry', registryUrl, '--member', city.hall.id, '--key', hallKey);
    expect({ code: refused.code, out: refused.out }).toEqual({ code: EXIT.failure, out: [] });
    expect(refused.err).toEqual([expect.stringMatching(/^members list: ROLE_FORBIDDEN: /)]);
  });

  it('sources list: the catalogue as a table, or as the JSON answer', async () => {
    const table = await datarun('sources', 'list', '--registry', registryUrl, ...adminAs);
    expect({ code: table.code, err: table.err }).toEqual({ code: EXIT.ok, err: [] });
    expect(table.out[0]).toMatch(/^id +owner +mode +version +title$/);
    expect(table.out.slice(1).map((line) => line.split(/ +/).slice(0, 4))).toEqual(
      ['household', 'marriage', 'property'].map((id) => [id, city.departments[id as keyof City['departments']].id, 'replica', '1']).sort(),
    );
    const json = await datarun('sources', 'list', '--registry', registryUrl, '--json', ...adminAs);
    expect(json.out).toHaveLength(1);
    expect((JSON.parse(json.out[0]) as { items: Array<{ id: string }> }).items.map((s) => s.id).sort()).toEqual(['household', 'marriage', 'property']);
  });

  it('grants list: every grant for the admin, its own for a hall, filtered by state and source', async () => {
    const all = await datarun('grants', 'list', '--registry', registryUrl, '--json', ...adminAs);
    expect(all.code).toBe(EXIT.ok);
    expect((JSON.parse(all.out[0]) as { items: unknown[] }).items).toHaveLength(3);
    const mine = await datarun(
      'grants',
      'list',
      '--registry',
      registryUrl,
      '--member',
      city.hall.id,
      '--key',
      hallKey,
      '--state',
      'approved',
      '--source',
      'marriage',
    );
    expect(mine.code).toBe(EXIT.ok);
    expect(mine.out).toEqual([expect.stringMatching(/^id +state +consumer +source +purposes +valid until$/), expect.stringContaining(city.grants.marriage)]);
    expect(mine.out[1]).toMatch(new RegExp(`^${city.grants.marriage} +approved +${city.hall.id.replaceAll('.', '\\.')} +marriage +${MATTER} +\\d{4}-`));
    const none = await datarun('grants', 'list', '--registry', registryUrl, '--state', 'revoked', ...adminAs);
    expect(none.out).toHaveLength(1); // the header alone
  });

  it('matters list: each matter with its evidence and whom it notifies', async () => {
    const { code, out } = await datarun('matters', 'list', '--registry', registryUrl, ...adminAs);
    expect(code).toBe(EXIT.ok);
    expect(out[0]).toMatch(/^code +evidence +notifies +title$/);
    expect(out.find((line) => line.startsWith(`${MATTER} `))).toMatch(
      /^property-transfer +property,household,marriage +water,electricity,gas,cable,broadband +不动产转移登记$/,
    );
  });

  it('an API refusal: exit 1, its code, detail and request id on one line of stderr', async () => {
    const stranger = keyFile('stranger.key.pem', keyPair().privateKey);
    const { code, out, err } = await datarun('matters', 'list', '--registry', registryUrl, '--member', 'zj.test.nobody', '--key', stranger);
    expect({ code, out }).toEqual({ code: EXIT.failure, out: [] });
    expect(err).toEqual([expect.stringMatching(/^matters list: TOKEN_INVALID: .+ \(request [0-9a-f-]{36}\)$/)]);
  });

  it('dlq list and replay: the dead letters on the database, the replay refused for an unknown id', async () => {
    const id = randomUUID();
    await city.db.ownerQuery(
      `INSERT INTO dead_letter (id, dlq_partition, dlq_offset, topic, message_key, value, headers, reason, dead_lettered_by, dead_lettered_at)
       VALUES ($1, 0, 7, 'datarun.utility.gas.transfer-requested.v1', 'UNIT-9', 'x', '{}', 'not JSON', 'datarun.connector.zj.demo.gas', now())`,
      [id],
    );
    const table = await datarun('dlq', 'list');
    expect(table).toEqual({
      code: EXIT.ok,
      out: [
        expect.stringMatching(
          new RegExp(
            `  ${id}  datarun\\.utility\\.gas\\.transfer-requested\\.v1  key=UNIT-9  by=datarun\\.connector\\.zj\\.demo\\.gas  replays=0  PLANTED  not JSON$`,
          ),
        ),
      ],
      err: [],
    });
    const json = await datarun('dlq', 'list', '--json', '--topic', 'datarun.utility.gas.transfer-requested.v1');
    expect(JSON.parse(json.out[0])).toMatchObject({ items: [{ id, key: 'UNIT-9', replays: 0 }], next: null });
    // Inserted straight into the table, with no seal: planted, and never replayed.
    expect(await datarun('dlq', 'replay', id)).toEqual({ code: EXIT.failure, out: [], err: [expect.stringMatching(/^dlq replay: DEAD_LETTER_PLANTED: /)] });
    const unknown = randomUUID();
    expect(await datarun('dlq', 'replay', unknown)).toEqual({
      code: EXIT.failure,
      out: [],
      err: [expect.stringMatching(/^dlq replay: DEAD_LETTER_NOT_FOUND: /)],
    });
  });

  it('migrate: a migrated database is up to date', async () => {
    expect(await datarun('migrate')).toEqual({ code: EXIT.ok, out: ['migrate: database is up to date'], err: [] });
  });

  it('audit verify --audit: the audit app recomputes, the latest checkpoint is checked here against the key given', async () => {
    const admin = createDatarunClient({ audit: auditUrl }, { member: ADMIN_MEMBER_ID, kid: city.admin.kid, privateKey: city.admin.privateKey });
    await admin.audit.POST('/v1/audit/checkpoints');
    const trusted = await datarun('audit', 'verify', '--audit', auditUrl, '--public-key', auditPublic, ...adminAs);
    expect({ code: trusted.code, err: trusted.err }).toEqual({ code: EXIT.ok, err: [] });
    const report = JSON.parse(trusted.out[0]);
    expect(report).toMatchObject({ ok: true, latestCheckpoint: { signatureValid: true, kid: 'audit' } });
    expect(report.checked).toBeGreaterThan(0);

    const forged = await datarun('audit', 'verify', '--audit', auditUrl, '--public-key', strangerPublic, ...adminAs);
    expect(forged.code).toBe(EXIT.failure);
    expect(JSON.parse(forged.out[0])).toMatchObject({ ok: false, reason: 'checkpoint-signature', latestCheckpoint: { signatureValid: false } });
  });

  it('audit verify on the database: exit 0 for the intact log, 1 with the first bad record once a row is altered', async () => {
    const intact = await datarun('audit', 'verify', '--public-key', auditPublic);
    expect({ code: intact.code, err: intact.err }).toEqual({ code: EXIT.ok, err: [] });
    const report = JSON.parse(intact.out[0]);
    expect(report).toMatchObject({ ok: true, checkpointsVerified: expect.any(Number) });
    expect(report.checked).toBe(report.lastSeq);

    await city.db.ownerQuery(`UPDATE audit_event SET actor = 'nobody' WHERE seq = 2`);
    const altered = await datarun('audit', 'verify', '--public-key', auditPublic);
    expect({ code: altered.code, err: altered.err }).toEqual({ code: EXIT.failure, err: [] });
    expect(JSON.parse(altered.out[0])).toMatchObject({ ok: false, firstBadSeq: 2 });
  });
});
