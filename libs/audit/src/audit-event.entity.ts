import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

export type AuditDecision = 'allowed' | 'denied' | 'failed';

/** One access or change, appended and never updated (the application role cannot). */
@Entity('audit_event')
@Check('audit_event_decision_check', `decision IN ('allowed', 'denied', 'failed')`)
@Index('audit_event_subject_idx', ['subjectHash', 'at'])
@Index('audit_event_member_idx', ['memberId', 'at'])
@Index('audit_event_case_idx', ['caseId'])
@Unique('audit_event_id_key', ['id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  seq: string;

  @Column('uuid')
  id: string;

  @Column('timestamptz')
  at: Date;

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
}
