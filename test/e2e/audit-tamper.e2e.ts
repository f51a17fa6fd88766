// Tampering with the stored audit log, as a database administrator could: each change is found,
// at the right first bad sequence number, by the verifier that needs only the database and the
// audit public key.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AuditCheckpoints, AuditLog, leafHash, chainHash, recordBytes, signCheckpoint, verifyAuditLog, type SignedCheckpoint } from '@datarun/audit';
import { dataSourceOptions } from '@datarun/db';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { auditKeysOf } from '../support/audit-keys.js';

const auditKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });

interface Log {
  db: TestDatabase;
  app: DataSource;
  checkpoints: SignedCheckpoint[];
  verify(trusted?: KeyObject): ReturnType<typeof verifyAuditLog>;
  close(): Promise<void>;
}

/** A log of `n` events with a signed checkpoint after `checkpointAt` of them. */
async function logOf(n: number, checkpointAt: number): Promise<Log> {
  const db = await migratedDatabase();
  const app = await new DataSource(dataSourceOptions(db.config.database, 'audit')).initialize();
  const log = new AuditLog(app);
  const signer = new AuditCheckpoints(app, auditKeysOf(auditKey), '/dev/null');
  const checkpoints: SignedCheckpoint[] = [];
  for (let i = 1; i <= n; i += 1) {
    await log.append({
      memberId: 'zj.hall',
      actor: `clerk-${i % 3}`,
      action: 'lookup',
      decision: i % 5 ? 'allowed' : 'denied',
      sourceId: 'marriage',
      subjectHash: `s${i % 4}`,
      purpose: 'property-transfer',
      fields: ['maritalStatus'],
    });
    if (i === checkpointAt) checkpoints.push(await signer.signNow());
  }
  return {
    db,
    app,
    checkpoints,
    verify: (trusted = auditKey.publicKey) => verifyAuditLog(app, { trustedKey: trusted, externalCheckpoints: checkpoints, batchSize: 7 }),
    async close() {
      await app.destroy();
      await db.drop();
    },
  };
}

describe('tamper evidence', () => {
  let log: Log | undefined;
  afterEach(async () => {
    await log?.close();
    log = undefined;
  });

  it('an untouched log verifies, with its checkpoint and Merkle root', async () => {
    log = await logOf(30, 20);
    expect(await log.verify()).toEqual({ ok: true, checked: 30, lastSeq: 30, checkpointsVerified: 1 });
  });

  it('a changed field (column only): first bad = that record', async () => {
    log = await logOf(30, 20);
    await log.db.ownerQuery(`UPDATE audit_event SET decision = 'allowed', reason = NULL WHERE seq = 15`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: 15, reason: 'columns' });
  });

  it('a changed record with its hashed bytes rewritten too: first bad = that record', async () => {
    log = await logOf(30, 20);
    const [row] = (await log.db.ownerQuery('SELECT canonical FROM audit_event WHERE seq = 12')).rows;
    const forged = JSON.parse(row.canonical.toString('utf8'));
    forged.actor = 'nobody';
    await log.db.ownerQuery(`UPDATE audit_event SET actor = 'nobody', canonical = $1 WHERE seq = 12`, [recordBytes(forged)]);
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: 12, reason: 'hash' });
  });

  it('a deleted record: first bad = the missing sequence number', async () => {
    log = await logOf(30, 20);
    await log.db.ownerQuery('DELETE FROM audit_event WHERE seq = 9');
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: 9, reason: 'gap' });
  });

  it('two records swapped: first bad = the earlier of the two', async () => {
    log = await logOf(30, 20);
    // Swap the contents of 7 and 11 (keeping their sequence numbers), as a reordering would.
    await log.db.ownerQuery(`
      WITH a AS (SELECT * FROM audit_event WHERE seq = 7), b AS (SELECT * FROM audit_event WHERE seq = 11)
      UPDATE audit_event e SET canonical = s.canonical, chain_hash = s.chain_hash, actor = s.actor, id = s.id
      FROM (SELECT 7 AS target, b.* FROM b UNION ALL SELECT 11 AS target, a.* FROM a) s
      WHERE e.seq = s.target`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: 7 });
  });

  it('the last ten truncated behind the checkpoint: first bad = the first missing one', async () => {
    log = await logOf(30, 30);
    await log.db.ownerQuery('DELETE FROM audit_event WHERE seq > 20');
    await log.db.ownerQuery(`UPDATE audit_chain_head SET seq = 20`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: 21, reason: 'truncated' });
  });

  it('a forged record with a recomputed chain and a checkpoint not signed by the audit key', async () => {
    log = await logOf(20, 20);
    // The administrator appends a record, chains it correctly, and signs a checkpoint with a key of their own.
    const [last] = (await log.db.ownerQuery('SELECT canonical, chain_hash FROM audit_event WHERE seq = 20')).rows;
    const content = { ...JSON.parse(last.canonical.toString('utf8')), seq: 21, id: '00000000-0000-4000-8000-000000000021', actor: 'ghost' };
    const bytes = recordBytes(content);
    const chain = chainHash(last.chain_hash, leafHash(bytes));
    await log.db.ownerQuery(
      `INSERT INTO audit_event (seq, id, at, member_id, actor, action, source_id, subject_hash, purpose, case_id, object_ref, fields, decision, reason, latency_ms, correlation_id, canonical, chain_hash)
       VALUES (21, $1, $2, $3, 'ghost', $4, $5, $6, $7, NULL, NULL, $8, $9, $10, $11, $12, $13, $14)`,
      [
        content.id,
        content.at,
        content.member,
        content.action,
        content.source,
        content.subject,
        content.purpose,
        content.fields,
        content.decision,
        content.reason,
        content.latencyMs,
        content.correlationId,
        bytes,
        chain,
      ],
    );
    const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = signCheckpoint(
      { seq: 21, chainHash: chain.toString('hex'), rootHash: 'ab'.repeat(32), signedAt: new Date().toISOString() },
      rogue.privateKey,
      'audit',
    );
    await log.db.ownerQuery(
      `INSERT INTO audit_checkpoint (seq, chain_hash, root_hash, signed_at, alg, kid, signature, public_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [forged.seq, forged.chainHash, forged.rootHash, forged.signedAt, forged.alg, forged.kid, forged.signature, JSON.stringify(forged.publicKey)],
    );
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: 21, reason: 'checkpoint-signature' });
  });

  it('a whole chain rewritten with fresh hashes is caught by the copy kept outside the database', async () => {
    log = await logOf(30, 20);
    // Rewrite record 5 and recompute every hash after it, and the database's checkpoint too.
    const rows = (await log.db.ownerQuery('SELECT seq, canonical, chain_hash FROM audit_event ORDER BY seq')).rows;
    let chain = rows[3].chain_hash as Buffer;
    for (const row of rows.slice(4)) {
      const content = JSON.parse(row.canonical.toString('utf8'));
      if (content.seq === 5) content.actor = 'rewritten';
      const bytes = recordBytes(content);
      chain = chainHash(chain, leafHash(bytes));
      await log.db.ownerQuery('UPDATE audit_event SET canonical = $1, chain_hash = $2, actor = $3 WHERE seq = $4', [bytes, chain, content.actor, content.seq]);
    }
    await log.db.ownerQuery('DELETE FROM audit_checkpoint');
    expect(await log.verify()).toMatchObject({ ok: false, firstBadSeq: 1, reason: 'checkpoint-mismatch' });
  });
});
