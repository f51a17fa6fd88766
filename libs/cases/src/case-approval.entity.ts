import { MemberEntity } from '@datarun/registry';
import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, Unique } from 'typeorm';

export type ApprovalState = 'pending' | 'approved' | 'rejected';

/**
 * One department's approval task for one case (并联审批): opened with the case, all of a case's at
 * once, due `timeLimitHours` after (the matter's 承诺时限), decided once by the department.
 */
@Entity('case_approval')
@Unique('case_approval_case_id_approver_id_key', ['caseId', 'approverId'])
@Check('case_approval_state_check', `state IN ('pending', 'approved', 'rejected')`)
@Index('case_approval_queue_idx', ['approverId', 'state', 'dueAt'])
export class CaseApprovalEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'case_id' })
  @ForeignKey('service_case', { name: 'case_approval_case_id_fkey', onDelete: 'NO ACTION' })
  caseId: string;

  @Column('text', { name: 'approver_id' })
  @ForeignKey(() => MemberEntity, { name: 'case_approval_approver_id_fkey', onDelete: 'NO ACTION' })
  approverId: string;

  @Column('text')
  state: ApprovalState;

  @Column('timestamptz', { name: 'due_at' })
  dueAt: Date;

  @Column('timestamptz', { name: 'decided_at', nullable: true })
  decidedAt: Date | null;

  /** The person (token subject) who decided. */
  @Column('text', { name: 'decided_by', nullable: true })
  decidedBy: string | null;

  @Column('text', { nullable: true })
  reason: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
