// Hardening item 7, the audit key stays in the audit app. Before: every app held a checkpoint
// signer, the application role (every app's connection) could INSERT into audit_checkpoint, and
// `checkpoints/latest` served the newest row as stored, with the public key stored in it; one key id
// for ever. Now: only the audit app loads the signing key and only its role may insert; latest
// serves only what verifies under a configured key of its kid; keys rotate, old checkpoints verify.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditCheckpoints, AuditLog, type SignedCheckpoint, signCheckpoint, verifyAuditLog } from '@datarun/audit';
import { KeyRing } from '@datarun/auth';
import { dataSourceOptions } from '@datarun/db';
import { DataSource } from 'typeorm';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase, uniqueName } from '../support/infra.js';
import { adminKeyFile, type TestMember } from '../support/members.js';

type Pair = { privateKey: KeyObject; publicKey: KeyObject };
const ecPair = (): Pair => generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('the audit key stays in the audit app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datarun-audit-key-'));
  const pem = (name: string, key: KeyObject) => {
    const file = join(dir, name);
    writeFileSync(file, key.export(key.type === 'private' ? { type: 'pkcs8', format: 'pem' } : { type: 'spki', format: 'pem' }));
    return file;
  };
  const jwksFile = (name: string, keys: Record<string, KeyObject>) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify({ keys: Object.entries(keys).map(([kid, key]) => ({ ...key.export({ format: 'jwk' }), kid })) }));
    return file;
  };
  const first = ecPair();
  let db: TestDatabase;
  let admin: TestMember;
  let registry: TestApp;
  let audit: TestApp;
  let appRole: DataSource;
  let log: AuditLog;
  const checkpointRows = async () => Number((await db.ownerQuery('SELECT count(*) FROM audit_checkpoint')).rows[0].count);
  const append = (n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => log.append({ memberId: 'zj.hall', actor: `clerk-${i}`, action: 'lookup', decision: 'allowed' })));
  const sign = async (app: TestApp) =>
    (
      await app.http
        .post('/v1/audit/checkpoints')
        .set('authorization', await admin.auth())
        .expect(201)
    ).body as SignedCheckpoint;
  const latest = async (app: TestApp, status: number) =>
    (
      await app.http
        .get('/v1/audit/checkpoints/latest')
        .set('authorization', await admin.auth())
        .expect(status)
    ).body;

  beforeAll(async () => {
    const keys = adminKeyFile();
    admin = keys.admin;
    db = await migratedDatabase({
      DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath,
      DATARUN_AUDIT_SIGNING_KEY: pem('audit-1.key.pem', first.privateKey),
      AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0',
      DATARUN_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.ndjson'),
      KAFKA_TOPIC_PREFIX: `${uniqueName('ak')}.`,
    });
    registry = await bootApp(RegistryAppModule.forRoot(db.config), 'registry'); // seeds the administrator
    audit = await bootApp(AuditAppModule.forRoot(db.config), 'audit');
    appRole = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    log = new AuditLog(appRole);
    await append(5);
  }, 60_000);
  afterAll(async () => {
    await appRole?.destroy();
    await audit?.close();
    await registry?.close();
    await db?.drop();
  });

  it.each([
    ['gateway', () => GatewayModule.forRoot(db.config)],
    ['registry', () => RegistryAppModule.forRoot(db.config)],
    ['relay', () => RelayModule.forRoot(db.config)],
  ])('the %s runs without the signing key although the configuration names one, and has no checkpoint signer', async (name, module) => {
    const app = await bootApp(module(), name);
    try {
      expect(app.app.get(KeyRing).get('auditSigningKey')).toBeUndefined();
      expect(() => app.app.get(AuditCheckpoints, { strict: false })).toThrow();
    } finally {
      await app.close();
    }
  });

  it("refuses an INSERT into audit_checkpoint through the application role's connection; the audit app's role signs", async () => {
    const before = await checkpointRows();
    const forged = signCheckpoint(
      { seq: 5, chainHash: 'a'.repeat(64), rootHash: 'a'.repeat(64), signedAt: new Date().toISOString() },
      ecPair().privateKey,
      'audit',
    );
    await expect(
      appRole.query(
        `INSERT INTO audit_checkpoint (seq, chain_hash, root_hash, signed_at, alg, kid, signature, public_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [forged.seq, forged.chainHash, forged.rootHash, forged.signedAt, forged.alg, forged.kid, forged.signature, JSON.stringify(forged.publicKey)],
      ),
    ).rejects.toThrow(/permission denied for table audit_checkpoint/);
    expect(await checkpointRows()).toBe(before);
    // The audit app's own connection (DATABASE_AUDIT_URL's role) still writes its checkpoints.
    const signed = await sign(audit);
    expect(signed.kid).toBe('audit');
    expect(await checkpointRows()).toBe(before + 1);
  });

  it('never serves as latest a row signed by another key, nor the public key a row carries', async () => {
    const genuine = (await latest(audit, 200)) as SignedCheckpoint;
    const attacker = ecPair();
    const head = (await db.ownerQuery<{ seq: string; chain_hash: Buffer }>('SELECT seq, chain_hash FROM audit_chain_head')).rows[0];
    const plant = (c: SignedCheckpoint) =>
      db.ownerQuery(
        `INSERT INTO audit_checkpoint (seq, chain_hash, root_hash, signed_at, alg, kid, signature, public_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [c.seq, c.chainHash, c.rootHash, c.signedAt, c.alg, c.kid, c.signature, JSON.stringify(c.publicKey)],
      );
    // Newer than the genuine one, under the configured kid and under a kid of its own, each with
    // the attacker's public key in the row: what a reader of the row alone would accept.
    for (const [seq, kid] of [
      [Number(head.seq) + 1, 'audit'],
      [Number(head.seq) + 2, 'attacker'],
    ] as const) {
      await plant(
        signCheckpoint(
          { seq, chainHash: head.chain_hash.toString('hex'), rootHash: genuine.rootHash, signedAt: new Date().toISOString() },
          attacker.privateKey,
          kid,
        ),
      );
    }
    // And the genuine signature with another public key in the row: served with the configured key.
    await db.ownerQuery(`UPDATE audit_checkpoint SET public_key = $1 WHERE seq = $2`, [
      JSON.stringify({ ...attacker.publicKey.export({ format: 'jwk' }), kid: 'audit' }),
      genuine.seq,
    ]);
    const served = (await latest(audit, 200)) as SignedCheckpoint;
    expect(served).toEqual(genuine);
    expect(served.publicKey).toMatchObject(first.publicKey.export({ format: 'jwk' }));
    await db.ownerQuery('DELETE FROM audit_checkpoint WHERE seq > $1', [genuine.seq]);
  });

  it('answers 404 when no row verifies', async () => {
    const other = ecPair();
    const stranger = await bootApp(
      AuditAppModule.forRoot({ ...db.config, keys: { ...db.config.keys, auditSigningKey: pem('stranger.key.pem', other.privateKey) } }),
      'audit',
    );
    try {
      expect((await latest(stranger, 404)).code).toBe('NOT_FOUND');
    } finally {
      await stranger.close();
    }
  });

  it('rotates: a new key under a new kid signs, the old public key stays trusted by kid, and old and new checkpoints verify', async () => {
    const second = ecPair();
    const rotated = await bootApp(
      AuditAppModule.forRoot({
        ...db.config,
        audit: { ...db.config.audit, keyId: 'audit-2' },
        keys: {
          ...db.config.keys,
          auditSigningKey: pem('audit-2.key.pem', second.privateKey),
          auditPublicKey: jwksFile('audit.jwks.json', { audit: first.publicKey }),
        },
      }),
      'audit',
    );
    try {
      await append(3);
      const signed = await sign(rotated);
      expect(signed.kid).toBe('audit-2');
      const served = (await latest(rotated, 200)) as SignedCheckpoint;
      expect(served).toMatchObject({ seq: signed.seq, kid: 'audit-2', publicKey: { kid: 'audit-2', x: second.publicKey.export({ format: 'jwk' }).x } });
      const report = await rotated.http
        .get('/v1/audit/verify')
        .set('authorization', await admin.auth())
        .expect(200);
      expect(report.body).toMatchObject({ ok: true, checkpointsVerified: 2 });
      // Each checkpoint is checked with the key of its kid: the old key alone does not make the new one genuine.
      const both = new Map([
        ['audit', first.publicKey],
        ['audit-2', second.publicKey],
      ]);
      expect(await verifyAuditLog(appRole, { trustedKey: both })).toMatchObject({ ok: true, checkpointsVerified: 2 });
      expect(await verifyAuditLog(appRole, { trustedKey: new Map([['audit', first.publicKey]]) })).toMatchObject({ ok: false, reason: 'checkpoint-signature' });
      expect(await verifyAuditLog(appRole, { trustedKey: new Map([['audit-2', first.publicKey]]) })).toMatchObject({
        ok: false,
        reason: 'checkpoint-signature',
      });
    } finally {
      await rotated.close();
    }
  });

  it('stops an audit app whose public keys name its signing kid with another key', async () => {
    await expect(
      bootApp(
        AuditAppModule.forRoot({ ...db.config, keys: { ...db.config.keys, auditPublicKey: jwksFile('clash.jwks.json', { audit: ecPair().publicKey }) } }),
        'audit',
      ),
    ).rejects.toThrow(/^DATARUN_AUDIT_PUBLIC_KEY: /);
  });
});
