import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { MatterEntity, MemberEntity } from '@datarun/registry';

/**
 * `approving` while a matter's approvals are pending (then `open`), `rejected` after one of them
 * refused (final, like completed and withdrawn).
 */
export type CaseState = 'open' | 'approving' | 'rejected' | 'completed' | 'withdrawn';
export const CASE_STATES: readonly CaseState[] = ['open', 'approving', 'rejected', 'completed', 'withdrawn'];

/** A case the hall is still working on: open, or waiting for its approvals. */
export function isActive(state: CaseState): boolean {
  return state === 'open' || state === 'approving';
}

export interface CaseParty {
  idNumber: string;
  name: string;
  role: string;
}

/** 容缺受理: a material the case opened without, due by `dueAt`. */
export interface DeferredMaterial {
  type: string;
  dueAt: string;
}

/** The parties' keyed hashes (`hashOf`: SubjectPseudonyms.of), each once: what finds a case by a party. */
export function partyHashesOf(parties: readonly CaseParty[], hashOf: (idNumber: string) => string): string[] {
  return [...new Set(parties.map((p) => hashOf(p.idNumber)))];
}

/** A case's deferred materials with whether each came, and whether one that did not is late. */
export function deferredOf(
  deferred: readonly DeferredMaterial[] | null,
  uploaded: ReadonlySet<string>,
  now = Date.now(),
): Array<DeferredMaterial & { uploaded: boolean; overdue: boolean }> {
  return (deferred ?? []).map((d) => ({ ...d, uploaded: uploaded.has(d.type), overdue: !uploaded.has(d.type) && Date.parse(d.dueAt) < now }));
}

export interface CaseMaterial {
  type: string;
  sha256: string;
  uri?: string;
}

/**
 * A case (办件). The member and the matter it names are the registry's: foreign keys, no relations
 * (a relation would let this lib load the registry's rows).
 */
@Entity('service_case')
@Check('service_case_state_check', `state IN ('open', 'approving', 'rejected', 'completed', 'withdrawn')`)
@Index('service_case_consumer_state_idx', ['consumerId', 'state'])
@Index('service_case_consumer_created_idx', ['consumerId', 'createdAt', 'id'])
@Index('service_case_created_idx', ['createdAt'])
@Index('service_case_completed_idx', ['closedAt'], { where: `state = 'completed'` })
// A GIN index (migration 72), which TypeORM cannot declare: it leaves it alone.
@Index('service_case_party_hashes_idx', { synchronize: false })
export class CaseEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text', { name: 'consumer_id' })
  @ForeignKey(() => MemberEntity, { name: 'service_case_consumer_id_fkey', onDelete: 'NO ACTION' })
  consumerId: string;

  @Column('text', { name: 'matter_code' })
  @ForeignKey(() => MatterEntity, { name: 'service_case_matter_code_fkey', onDelete: 'NO ACTION' })
  matterCode: string;

  @Column('text')
  state: CaseState;

  @Column('jsonb')
  parties: CaseParty[];

  /** The parties' keyed hashes (SubjectPseudonyms): how a party's ID number finds its cases. */
  @Column('text', { name: 'party_hashes', array: true, nullable: true })
  partyHashes: string[] | null;

  @Column('jsonb', { nullable: true })
  property: { unitNumber: string; address: string } | null;

  @Column('jsonb', { name: 'utility_accounts', nullable: true })
  utilityAccounts: Record<string, string> | null;

  @Column('jsonb')
  materials: CaseMaterial[];

  /** Materials the case opened without (容缺受理), each with its due time; uploaded ones stay listed. */
  @Column('jsonb', { default: () => "'[]'" })
  deferred: DeferredMaterial[];

  @Column('text', { name: 'opened_by' })
  openedBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column('timestamptz', { name: 'closed_at', nullable: true })
  closedAt: Date | null;

  /** Why the case was rejected: the rejecting department's reason. */
  @Column('text', { name: 'rejection_reason', nullable: true })
  rejectionReason: string | null;
}
