import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type KeyRing, loadKeys } from '@datarun/auth';
import type { DatarunConfig } from '@datarun/config';
import { cloudEvent, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MerkleFrontier, type SignedCheckpoint, signCheckpoint } from './integrity/index.js';

export const CHECKPOINT_TOPIC = 'datarun.audit.checkpoints.v1';
export const AUDIT_KEY_ID = 'audit';
const CHAIN_ID = '1';

/** The audit platform key pair from configuration (the private half signs, the public half verifies). */
export interface AuditKeys {
  readonly signing?: KeyObject;
  readonly trusted?: KeyObject;
}

/** The audit keys of an app's KeyRing: the public half is derived from the signing key unless configured. */
export function auditKeysOf(keys: KeyRing): AuditKeys {
  const signing = keys.get('auditSigningKey');
  return { signing, trusted: keys.get('auditPublicKey') ?? (signing && createPublicKey(signing)) };
}

/** The audit keys for a verifier outside the apps (`npm run audit:verify`): whichever of the two is there. */
export function loadAuditKeys(config: DatarunConfig): AuditKeys {
  return auditKeysOf(loadKeys(config, { optional: ['auditSigningKey', 'auditPublicKey'] }));
}

/** Reads an NDJSON file of checkpoints (the copy kept outside the database); missing file = none. */
export function readCheckpointFile(path: string): SignedCheckpoint[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SignedCheckpoint);
}

/**
 * Signs checkpoints of the chain's head and publishes each where a database administrator cannot
 * rewrite it: the checkpoint file and the Kafka topic, besides the table.
 */
@Injectable()
export class AuditCheckpoints {
  private readonly logger = new Logger('AuditCheckpoints');

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: AuditKeys,
    private readonly checkpointFile: string,
    private readonly messaging?: KafkaMessaging,
  ) {}

  /** Signs the head now; returns the existing checkpoint when the head has not moved. */
  async signNow(): Promise<SignedCheckpoint> {
    if (!this.keys.signing) throw new Problem('SERVICE_UNAVAILABLE', 'no audit signing key is configured (DATARUN_AUDIT_SIGNING_KEY)');
    const [head]: Array<{ seq: string; chain_hash: Buffer; frontier: unknown }> = await this.dataSource.query(
      'SELECT seq, chain_hash, frontier FROM audit_chain_head WHERE chain_id = 1',
    );
    const seq = Number(head.seq);
    if (seq === 0) throw new Problem('STATE_CONFLICT', 'the audit log is empty: there is nothing to checkpoint yet');
    const existing = await this.bySeq(seq);
    if (existing) return existing;
    const checkpoint = signCheckpoint(
      {
        seq,
        chainHash: head.chain_hash.toString('hex'),
        rootHash: MerkleFrontier.fromJSON(head.frontier as never)
          .root()
          .toString('hex'),
        signedAt: new Date().toISOString(),
      },
      this.keys.signing,
      AUDIT_KEY_ID,
    );
    await this.dataSource.query(
      `INSERT INTO audit_checkpoint (seq, chain_hash, root_hash, signed_at, alg, kid, signature, public_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (seq) DO NOTHING`,
      [
        checkpoint.seq,
        checkpoint.chainHash,
        checkpoint.rootHash,
        checkpoint.signedAt,
        checkpoint.alg,
        checkpoint.kid,
        checkpoint.signature,
        JSON.stringify(checkpoint.publicKey),
      ],
    );
    await this.publish(checkpoint);
    return (await this.bySeq(seq))!;
  }

  async latest(): Promise<SignedCheckpoint> {
    const [row] = await this.dataSource.query('SELECT * FROM audit_checkpoint ORDER BY seq DESC LIMIT 1');
    if (!row) throw new Problem('NOT_FOUND', 'no checkpoint has been signed yet');
    return checkpointFromRow(row);
  }

  private async bySeq(seq: number): Promise<SignedCheckpoint | undefined> {
    const [row] = await this.dataSource.query('SELECT * FROM audit_checkpoint WHERE seq = $1', [seq]);
    return row ? checkpointFromRow(row) : undefined;
  }

  /** The outside copies; a failure is logged, the next checkpoint supersedes it. */
  private async publish(checkpoint: SignedCheckpoint): Promise<void> {
    try {
      await mkdir(dirname(this.checkpointFile), { recursive: true });
      await appendFile(this.checkpointFile, `${JSON.stringify(checkpoint)}\n`);
    } catch (error) {
      this.logger.error(`cannot append checkpoint ${checkpoint.seq} to ${this.checkpointFile}: ${(error as Error).message}`);
    }
    if (!this.messaging) return;
    try {
      await this.messaging.publish(CHECKPOINT_TOPIC, [
        toKafkaMessage(
          cloudEvent({ type: 'datarun.audit.checkpoint.v1', source: 'datarun.audit', subject: String(checkpoint.seq), data: checkpoint }),
          CHAIN_ID,
        ),
      ]);
    } catch (error) {
      this.logger.error(`cannot publish checkpoint ${checkpoint.seq} to ${CHECKPOINT_TOPIC}: ${(error as Error).message}`);
    }
  }
}

/** A row of audit_checkpoint as the API, the file and the verifier show it. */
export interface CheckpointRow {
  seq: string;
  chain_hash: string;
  root_hash: string;
  signed_at: Date;
  alg: 'ES256';
  kid: string;
  signature: string;
  public_key: SignedCheckpoint['publicKey'];
}

export function checkpointFromRow(r: CheckpointRow): SignedCheckpoint {
  return {
    seq: Number(r.seq),
    chainHash: r.chain_hash,
    rootHash: r.root_hash,
    signedAt: r.signed_at.toISOString(),
    alg: r.alg,
    kid: r.kid,
    signature: r.signature,
    publicKey: r.public_key,
  };
}
