import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { MemberEntity } from '../members/member.entity.js';
import { SourceEntity } from '../sources/source.entity.js';

export type GrantState = 'requested' | 'approved' | 'rejected' | 'revoked';
export type GrantDecisionKind = 'approved' | 'rejected' | 'revoked';

@Entity('access_grant')
@Check('access_grant_state_check', `state IN ('requested', 'approved', 'rejected', 'revoked')`)
@Index('access_grant_source_state_idx', ['sourceId', 'state'])
@Index('access_grant_consumer_source_idx', ['consumerId', 'sourceId'])
export class GrantEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text', { name: 'consumer_id' })
  consumerId: string;

  @ManyToOne(() => MemberEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'consumer_id', foreignKeyConstraintName: 'access_grant_consumer_id_fkey' })
  consumer?: MemberEntity;

  @Column('text', { name: 'source_id' })
  sourceId: string;

  @ManyToOne(() => SourceEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'access_grant_source_id_fkey' })
  source?: SourceEntity;

  @Column('text', { array: true })
  fields: string[];

  @Column('text', { name: 'verify_fields', array: true, default: () => "'{}'" })
  verifyFields: string[];

  @Column('text', { array: true })
  purposes: string[];

  /** Sensitive fields this grant may read unmasked (e.g. another person's full ID number). */
  @Column('text', { name: 'unmasked_fields', array: true, default: () => "'{}'" })
  unmaskedFields: string[];

  @Column('timestamptz', { name: 'valid_until' })
  validUntil: Date;

  @Column('text')
  reason: string;

  @Column('text')
  state: GrantState;

  @Column('text', { name: 'requested_by' })
  requestedBy: string;

  @Column('text', { name: 'decided_by', nullable: true })
  decidedBy: string | null;

  @Column('timestamptz', { name: 'decided_at', nullable: true })
  decidedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

/** Who decided what about a grant, and when: the history, never overwritten. */
@Entity('grant_decision')
@Check('grant_decision_decision_check', `decision IN ('approved', 'rejected', 'revoked')`)
@Index('grant_decision_grant_idx', ['grantId'])
export class GrantDecisionEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column('uuid', { name: 'grant_id' })
  grantId: string;

  @ManyToOne(() => GrantEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'grant_id', foreignKeyConstraintName: 'grant_decision_grant_id_fkey' })
  grant?: GrantEntity;

  @Column('text')
  decision: GrantDecisionKind;

  @Column('text', { name: 'member_id' })
  memberId: string;

  @Column('text')
  actor: string;

  @Column('text', { nullable: true })
  note: string | null;

  @CreateDateColumn({ name: 'decided_at', type: 'timestamptz' })
  decidedAt: Date;
}
