import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { MatterEntity, MemberEntity } from '@datarun/registry';

export type CaseState = 'open' | 'completed' | 'withdrawn';

export interface CaseParty {
  idNumber: string;
  name: string;
  role: string;
}

export interface CaseMaterial {
  type: string;
  sha256: string;
  uri?: string;
}

@Entity('service_case')
@Check('service_case_state_check', `state IN ('open', 'completed', 'withdrawn')`)
@Index('service_case_consumer_state_idx', ['consumerId', 'state'])
export class CaseEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text', { name: 'consumer_id' })
  consumerId: string;

  @ManyToOne(() => MemberEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'consumer_id', foreignKeyConstraintName: 'service_case_consumer_id_fkey' })
  consumer?: MemberEntity;

  @Column('text', { name: 'matter_code' })
  matterCode: string;

  @ManyToOne(() => MatterEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'matter_code', foreignKeyConstraintName: 'service_case_matter_code_fkey' })
  matter?: MatterEntity;

  @Column('text')
  state: CaseState;

  @Column('jsonb')
  parties: CaseParty[];

  @Column('jsonb', { nullable: true })
  property: { unitNumber: string; address: string } | null;

  @Column('jsonb', { name: 'utility_accounts', nullable: true })
  utilityAccounts: Record<string, string> | null;

  @Column('jsonb')
  materials: CaseMaterial[];

  @Column('text', { name: 'opened_by' })
  openedBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column('timestamptz', { name: 'closed_at', nullable: true })
  closedAt: Date | null;
}
