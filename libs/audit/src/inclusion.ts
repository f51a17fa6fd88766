import { Problem } from '@datarun/problems';
import type { DataSource } from 'typeorm';
import { inclusionProof, leafHash, type SignedCheckpoint } from './integrity/index.js';

export interface InclusionAnswer {
  /** The audit event's sequence number; its leaf index is seq - 1. */
  seq: number;
  leafIndex: number;
  /** The event's hashed bytes (base64): the leaf is SHA-256(0x00 || bytes). */
  canonical: string;
  leafHash: string;
  treeSize: number;
  /** RFC 6962 audit path, hex, from the leaf upwards. */
  proof: string[];
  /** The signed checkpoint whose rootHash the proof leads to. */
  checkpoint: SignedCheckpoint;
}

/**
 * Proves that one audit event is in the log that a signed checkpoint covers, without the
 * verifier reading the rest of the log (RFC 6962 §2.1.1): anyone holding the checkpoint and the
 * audit public key checks the proof. Built from the stored leaves up to the checkpoint; O(n)
 * reading here, O(log n) for whoever checks it.
 */
export async function proveInclusion(dataSource: DataSource, eventId: string, checkpoint: SignedCheckpoint): Promise<InclusionAnswer> {
  const [event] = await dataSource.query('SELECT seq, canonical FROM audit_event WHERE id = $1', [eventId]);
  if (!event) throw new Problem('NOT_FOUND', `no audit event ${eventId}`);
  const seq = Number(event.seq);
  if (seq > checkpoint.seq) throw new Problem('STATE_CONFLICT', `event ${seq} is newer than the latest checkpoint (${checkpoint.seq}); sign one first`);
  const leaves: Buffer[] = [];
  for (let after = 0; after < checkpoint.seq;) {
    const rows: Array<{ seq: string; canonical: Buffer }> = await dataSource.query(
      'SELECT seq, canonical FROM audit_event WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 20000',
      [after, checkpoint.seq],
    );
    if (rows.length === 0) break;
    for (const row of rows) leaves.push(leafHash(row.canonical));
    after = Number(rows[rows.length - 1].seq);
  }
  if (leaves.length !== checkpoint.seq)
    throw new Problem(
      'STATE_CONFLICT',
      `the log holds ${leaves.length} of the ${checkpoint.seq} events the checkpoint covers (archived months cannot be proven from the database)`,
    );
  return {
    seq,
    leafIndex: seq - 1,
    canonical: Buffer.from(event.canonical).toString('base64'),
    leafHash: leaves[seq - 1].toString('hex'),
    treeSize: checkpoint.seq,
    proof: inclusionProof(seq - 1, leaves).map((h) => h.toString('hex')),
    checkpoint,
  };
}
