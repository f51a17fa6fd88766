import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type AuditSigningKey, type KeyRing, loadKeys } from '@datarun/auth';
import { ConfigError, type DatarunConfig } from '@datarun/config';
import { cloudEvent, KafkaMessaging, toKafkaMessage } from '@datarun/messaging';
import { Problem } from '@datarun/problems';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { checkpointPublicJwk, MerkleFrontier, type SignedCheckpoint, signCheckpoint, verifyCheckpointBy } from './integrity/index.js';

export const CHECKPOINT_TOPIC = 'datarun.audit.checkpoints.v1';
const CHAIN_ID = '1';
/** Rows read at a time while looking for the newest checkpoint that verifies. */
const LATEST_BATCH = 50;

/** The audit keys of configuration: the signing key (audit app only) and every trusted public key by kid. */
export interface AuditKeys {
  readonly signing?: AuditSigningKey;
  /** kid → public key: the configured ones and the signing key's half; empty when none is configured. */
  readonly trusted: ReadonlyMap<string, KeyObject>;
}

/**
 * The audit keys of an app's KeyRing: DATARUN_AUDIT_PUBLIC_KEY's keys and the public half of the
 * signing key under its kid. A kid that names two different keys is a configuration error.
 */
export function auditKeysOf(keys: KeyRing): AuditKeys {
  const signing = keys.get('auditSigningKey');
  const trusted = new Map(keys.get('auditPublicKey') ?? []);
  if (signing) {
    const half = createPublicKey(signing.privateKey);
    const listed = trusted.get(signing.kid);
    if (listed && !listed.equals(half)) {
      throw new ConfigError(
        'DATARUN_AUDIT_PUBLIC_KEY',
        `the public half of DATARUN_AUDIT_SIGNING_KEY under its key id ${signing.kid} (DATARUN_AUDIT_KEY_ID), or no key of that id`,
        `another key with kid ${signing.kid}`,
      );
    }
    trusted.set(signing.kid, half);
  }
  return signing ? { signing, trusted } : { trusted };
}

/**
 * The audit public keys for a verifier outside the audit app (`datarun audit verify`): only
 * DATARUN_AUDIT_PUBLIC_KEY. The signing key is the audit app's alone.
 */
export function loadAuditKeys(config: DatarunConfig): AuditKeys {
  return auditKeysOf(loadKeys(config, { optional: ['auditPublicKey'] }));
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
      this.keys.signing.privateKey,
      this.keys.signing.kid,
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
    const stored = await this.bySeq(seq);
    if (!stored) throw new Problem('STATE_CONFLICT', `the checkpoint stored for ${seq} does not verify under the configured audit keys`);
    return stored;
  }

  /**
   * The newest checkpoint that verifies under a trusted key of its kid, shown with that key (never
   * the public key stored in its row): a row planted in the table, signed by another key or
   * carrying its own key, is passed over, as a verifier would refuse it.
   */
  async latest(): Promise<SignedCheckpoint> {
    for (let below = Number.MAX_SAFE_INTEGER; ;) {
      const rows: CheckpointRow[] = await this.dataSource.query('SELECT * FROM audit_checkpoint WHERE seq < $1 ORDER BY seq DESC LIMIT $2', [
        below,
        LATEST_BATCH,
      ]);
      for (const row of rows) {
        const trusted = this.trusted(checkpointFromRow(row));
        if (trusted) return trusted;
      }
      if (rows.length < LATEST_BATCH) throw new Problem('NOT_FOUND', 'no checkpoint signed with a configured audit key yet');
      below = Number(rows[rows.length - 1].seq);
    }
  }

  private async bySeq(seq: number): Promise<SignedCheckpoint | undefined> {
    const [row] = await this.dataSource.query('SELECT * FROM audit_checkpoint WHERE seq = $1', [seq]);
    return row ? this.trusted(checkpointFromRow(row)) : undefined;
  }

  /** The checkpoint with the trusted key of its kid, when it verifies under it. */
  private trusted(checkpoint: SignedCheckpoint): SignedCheckpoint | undefined {
    if (!verifyCheckpointBy(checkpoint, this.keys.trusted)) return undefined;
    return { ...checkpoint, publicKey: checkpointPublicJwk(this.keys.trusted.get(checkpoint.kid)!, checkpoint.kid) };
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
