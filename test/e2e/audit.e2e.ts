// The auditor's and the citizen's story through HTTP: find every access to one citizen's records,
// export it, verify the whole log, see a deliberate tampering reported at the right place; the
// citizen sees the same accesses in their own report.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyCheckpoint, verifyInclusion } from '@datarun/audit';
import { mintToken } from '@datarun/auth';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { buildCity, type City, MATTER } from '../support/exchange.js';
import { registerMember, type TestMember } from '../support/members.js';

describe('audit: auditor and citizen', () => {
  let city: City;
  let audit: TestApp;
  let auditor: TestMember;
  let citizenToken: (idNumber: string) => Promise<string>;
  let checkpointFile: string;
  let auditPublicPem: string;
  let buyer: City['people'][number];
  let caseId: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datarun-audit-'));
    const auditKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'audit.key.pem'), auditKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    auditPublicPem = auditKey.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'idp.pub.pem'), idp.publicKey.export({ type: 'spki', format: 'pem' }));
    checkpointFile = join(dir, 'checkpoints.ndjson');
    citizenToken = async (idNumber) =>
      `Bearer ${await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: idNumber })}`;

    city = await buildCity(200, {
      DATARUN_AUDIT_SIGNING_KEY: join(dir, 'audit.key.pem'),
      DATARUN_CITIZEN_IDP_PUBLIC_KEY: join(dir, 'idp.pub.pem'),
      DATARUN_AUDIT_CHECKPOINT_FILE: checkpointFile,
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0',
    });
    audit = await bootApp(AuditAppModule.forRoot(city.db.config), 'audit');
    auditor = await registerMember(city.registry, city.admin, 'auditor', 'zj.test.jiwei');
    const seller = city.people.find((p) => p.propertyUnits.length > 0)!;
    buyer = city.people.find((p) => p.spouseIdNumber && p.idNumber !== seller.idNumber)!;
    caseId = (
      await city.gateway.http
        .post('/v1/cases')
        .set('authorization', await city.hall.auth('clerk-3'))
        .send({
          matter: MATTER,
          parties: [
            { idNumber: seller.idNumber, name: seller.name, role: 'seller' },
            { idNumber: buyer.idNumber, name: buyer.name, role: 'buyer' },
          ],
          materials: [],
        })
        .expect(201)
    ).body.id;
    await city.gateway.http
      .post('/v1/evidence-bundles')
      .set('authorization', await city.hall.auth('clerk-3'))
      .send({ caseId })
      .expect(200);
    await city.gateway.http
      .post('/v1/lookups')
      .set('authorization', await city.hall.auth('clerk-4'))
      .send({ source: 'marriage', subject: { idNumber: buyer.idNumber }, purpose: 'other-matter', caseId })
      .expect(403);
  }, 90_000);
  afterAll(async () => {
    await audit?.close();
    await city?.close();
  });

  it('finds every access to one citizen, pages and exports it', async () => {
    const all = await audit.http
      .get('/v1/audit/events')
      .query({ subject: buyer.idNumber })
      .set('authorization', await auditor.auth())
      .expect(200);
    // Three bundle items (property, household, marriage) and the refused lookup.
    expect(all.body.items.map((i: { action: string; decision: string }) => `${i.action}:${i.decision}`).sort()).toEqual([
      'bundle-item:allowed',
      'bundle-item:allowed',
      'bundle-item:allowed',
      'lookup:denied',
    ]);
    expect(all.body.items.every((i: { caseId: string; member: string }) => i.caseId === caseId && i.member === city.hall.id)).toBe(true);
    const seqs = all.body.items.map((i: { seq: number }) => i.seq);
    expect(seqs).toEqual([...seqs].sort((a: number, b: number) => b - a)); // newest first

    const page1 = await audit.http
      .get('/v1/audit/events')
      .query({ subject: buyer.idNumber, limit: 3 })
      .set('authorization', await auditor.auth())
      .expect(200);
    const page2 = await audit.http
      .get('/v1/audit/events')
      .query({ subject: buyer.idNumber, limit: 3, cursor: page1.body.next })
      .set('authorization', await auditor.auth())
      .expect(200);
    expect([...page1.body.items, ...page2.body.items].map((i: { id: string }) => i.id)).toEqual(all.body.items.map((i: { id: string }) => i.id));
    expect(page2.body.next).toBeUndefined();

    const denied = await audit.http
      .get('/v1/audit/events')
      .query({ subject: buyer.idNumber, decision: 'denied' })
      .set('authorization', await auditor.auth())
      .expect(200);
    expect(denied.body.items).toHaveLength(1);
    expect(denied.body.items[0]).toMatchObject({ actor: 'clerk-4', reason: 'PURPOSE_NOT_GRANTED' });

    const ndjson = await audit.http
      .get('/v1/audit/events')
      .query({ subject: buyer.idNumber, format: 'ndjson' })
      .set('authorization', await auditor.auth())
      .buffer(true)
      .parse((res, cb) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => cb(null, text));
      })
      .expect(200);
    expect(ndjson.headers['content-type']).toMatch(/ndjson/);
    expect(
      (ndjson.body as string)
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual(all.body.items.map((i: { id: string }) => i.id));
    const csv = await audit.http
      .get('/v1/audit/events')
      .query({ subject: buyer.idNumber, format: 'csv' })
      .set('authorization', await auditor.auth())
      .buffer(true)
      .parse((res, cb) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => cb(null, text));
      })
      .expect(200);
    // A byte order mark first (Excel and WPS read the Chinese as UTF-8), then the header row.
    expect((csv.body as string).startsWith('\uFEFFid,')).toBe(true);
    const lines = (csv.body as string).trim().split('\n');
    expect(lines[0]).toBe('id,seq,at,member,actor,action,source,caseId,object,purpose,fields,decision,reason,correlationId');
    expect(lines).toHaveLength(5);
  });

  it('shows the citizen the same accesses: organisation and matter, never the clerk', async () => {
    const res = await audit.http
      .get('/v1/me/access-log')
      .set('authorization', await citizenToken(buyer.idNumber))
      .expect(200);
    expect(res.body.items).toHaveLength(3);
    expect(res.body.items.map((i: { source: { id: string } }) => i.source.id).sort()).toEqual(['household', 'marriage', 'property']);
    expect(res.body.items[0]).toMatchObject({ organisation: { id: city.hall.id }, matter: { code: MATTER, title: '不动产转移登记' }, caseId });
    expect(JSON.stringify(res.body)).not.toContain('clerk-3');
    // Another citizen sees only their own (here: nothing).
    const other = city.people.find((p) => p.idNumber !== buyer.idNumber && p.spouseIdNumber !== buyer.idNumber)!;
    const theirs = await audit.http
      .get('/v1/me/access-log')
      .set('authorization', await citizenToken(other.idNumber))
      .expect(200);
    expect(theirs.body.items).toEqual([]);
  });

  it('keeps consumers and citizens out of the auditor endpoints', async () => {
    const consumer = await audit.http
      .get('/v1/audit/events')
      .set('authorization', await city.hall.auth())
      .expect(403);
    expect(consumer.body.code).toBe('ROLE_FORBIDDEN');
    const citizen = await audit.http
      .get('/v1/audit/verify')
      .set('authorization', await citizenToken(buyer.idNumber))
      .expect(403);
    expect(citizen.body.code).toBe('ROLE_FORBIDDEN');
    const hall = await audit.http
      .get('/v1/me/access-log')
      .set('authorization', await city.hall.auth())
      .expect(403);
    expect(hall.body.code).toBe('ROLE_FORBIDDEN');
  });

  it('verifies the whole log, publishes checkpoints outside the database, and reports tampering at the right place', async () => {
    const checkpoint = await audit.http
      .post('/v1/audit/checkpoints')
      .set('authorization', await city.admin.auth())
      .expect(201);
    expect(checkpoint.body).toMatchObject({ alg: 'ES256', kid: 'audit', publicKey: { kty: 'EC', crv: 'P-256' } });
    const latest = await audit.http
      .get('/v1/audit/checkpoints/latest')
      .set('authorization', await city.hall.auth())
      .expect(200);
    expect(latest.body).toEqual(checkpoint.body);
    expect(
      readFileSync(checkpointFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toContain(checkpoint.body.seq);

    // One event's inclusion, proven against the signed root without reading the rest of the log.
    const [event] = (
      await audit.http
        .get('/v1/audit/events')
        .query({ subject: buyer.idNumber, limit: 1 })
        .set('authorization', await auditor.auth())
        .expect(200)
    ).body.items;
    const proof = (
      await audit.http
        .get(`/v1/audit/events/${event.id}/proof`)
        .set('authorization', await auditor.auth())
        .expect(200)
    ).body;
    expect(verifyCheckpoint(proof.checkpoint, createPublicKey(auditPublicPem))).toBe(true);
    const leaf = Buffer.from(proof.leafHash, 'hex');
    const hashes = proof.proof.map((h: string) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(leaf, proof.leafIndex, proof.treeSize, hashes, Buffer.from(proof.checkpoint.rootHash, 'hex'))).toBe(true);
    expect(verifyInclusion(leaf, proof.leafIndex === 0 ? 1 : 0, proof.treeSize, hashes, Buffer.from(proof.checkpoint.rootHash, 'hex'))).toBe(false);
    expect(JSON.parse(Buffer.from(proof.canonical, 'base64').toString('utf8'))).toMatchObject({ id: event.id, seq: event.seq });

    const good = await audit.http
      .get('/v1/audit/verify')
      .set('authorization', await auditor.auth())
      .expect(200);
    // The auditor's search above is on the log too: the one record after the checkpoint.
    const since = (await city.db.ownerQuery(`SELECT action FROM audit_event WHERE seq > $1 ORDER BY seq`, [checkpoint.body.seq])).rows;
    expect(since.map((r) => r.action)).toEqual(['audit.searched']);
    // The file's copy is identical to the table's, so the one checkpoint counts once.
    expect(good.body).toMatchObject({ ok: true, lastSeq: checkpoint.body.seq + 1, checkpointsVerified: 1 });
    expect(good.body.checked).toBe(checkpoint.body.seq + 1);

    const [victim] = (await city.db.ownerQuery(`SELECT seq FROM audit_event WHERE action = 'lookup' AND decision = 'denied' ORDER BY seq LIMIT 1`)).rows;
    await city.db.ownerQuery(`UPDATE audit_event SET decision = 'allowed', reason = NULL WHERE seq = $1`, [victim.seq]);
    const bad = await audit.http
      .get('/v1/audit/verify')
      .set('authorization', await auditor.auth())
      .expect(200);
    expect(bad.body).toMatchObject({ ok: false, firstBadSeq: Number(victim.seq) });
  });
});
