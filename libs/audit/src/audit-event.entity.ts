import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type AuditDecision = 'allowed' | 'denied' | 'failed';

/**
 * One access or change, appended and never updated (the application role cannot). Partitioned by
 * month on `at`; `canonical` holds the exact bytes that were hashed, `chainHash` links it to the
 * previous event. The searchable columns are checked against `canonical` by the verifier.
 */
@Entity('audit_event')
@Check('audit_event_decision_check', `decision IN ('allowed', 'denied', 'failed')`)
@Index('audit_event_id_idx', ['id'])
@Index('audit_event_subject_idx', ['subjectHash', 'seq'])
@Index('audit_event_member_idx', ['memberId', 'seq'])
@Index('audit_event_case_idx', ['caseId'])
export class AuditEventEntity {
  @PrimaryColumn('bigint')
  seq: string;

  @PrimaryColumn('timestamptz')
  at: Date;

  @Column('uuid')
  id: string;

  @Column('text', { name: 'member_id' })
  memberId: string;

  @Column('text')
  actor: string;

  @Column('text')
  action: string;

  @Column('text', { name: 'source_id', nullable: true })
  sourceId: string | null;

  /** HMAC of the subject's ID number with a key kept outside the database. */
  @Column('text', { name: 'subject_hash', nullable: true })
  subjectHash: string | null;

  @Column('text', { nullable: true })
  purpose: string | null;

  @Column('uuid', { name: 'case_id', nullable: true })
  caseId: string | null;

  /** What a change is about (`grant:<id>`, `source:household@2`, …); null for accesses. */
  @Column('text', { name: 'object_ref', nullable: true })
  objectRef: string | null;

  @Column('text', { array: true, default: () => "'{}'" })
  fields: string[];

  @Column('text')
  decision: AuditDecision;

  @Column('text', { nullable: true })
  reason: string | null;

  @Column('integer', { name: 'latency_ms', nullable: true })
  latencyMs: number | null;

  @Column('text', { name: 'correlation_id', nullable: true })
  correlationId: string | null;

  @Column('bytea')
  canonical: Buffer;

  @Column('bytea', { name: 'chain_hash' })
  chainHash: Buffer;
}

/** The chain's tail: its row lock serialises writers across replicas. */
@Entity('audit_chain_head')
@Check('audit_chain_head_single', 'chain_id = 1')
export class AuditChainHeadEntity {
  @PrimaryColumn('integer', { name: 'chain_id' })
  chainId: number;

  @Column('bigint')
  seq: string;

  @Column('bytea', { name: 'chain_hash' })
  chainHash: Buffer;

  @Column('jsonb')
  frontier: { size: number; hashes: string[] };
}

@Entity('audit_checkpoint')
export class AuditCheckpointEntity {
  @PrimaryColumn('bigint')
  seq: string;

  @Column('text', { name: 'chain_hash' })
  chainHash: string;

  @Column('text', { name: 'root_hash' })
  rootHash: string;

  @Column('timestamptz', { name: 'signed_at' })
  signedAt: Date;

  @Column('text')
  alg: string;

  @Column('text')
  kid: string;

  @Column('text')
  signature: string;

  @Column('jsonb', { name: 'public_key' })
  publicKey: object;
}

/** The audit lib's tables: audit_event (and its monthly partitions), audit_chain_head, audit_checkpoint. */
export const AUDIT_ENTITIES = [AuditEventEntity, AuditChainHeadEntity, AuditCheckpointEntity];
