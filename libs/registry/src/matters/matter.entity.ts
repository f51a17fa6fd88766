import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** What the case holds about a party beyond its name that a recipient may be given (its ID number in full, its role in the case). */
export const BENEFICIARY_FIELDS = ['idNumber', 'role'] as const;
export type BeneficiaryField = (typeof BENEFICIARY_FIELDS)[number];

/** What a recipient is asked to do when a case of the matter completes. */
export interface MatterNotification {
  /** A member id, or a utility kind (the member registered as that kind's recipient when the case completes). */
  notify: string;
  request: 'transfer' | 'discount' | 'benefit';
  /** Which benefit (only for `benefit`), e.g. `education-aid`. */
  benefit?: string;
  /** What the recipient receives about the beneficiary beyond name and masked ID number (BENEFICIARY_FIELDS). */
  fields: string[];
  materials: string[];
  /** The role of the party who holds the account afterwards; absent = the case's first party. */
  holderRole?: string;
  /** Sent only when the case names an account for the utility kind (cable, broadband in a property transfer). */
  optional?: boolean;
}

/** A department that must approve a case of the matter (并联审批: every approval runs at once). */
export interface MatterApproval {
  /** The approving department's member id. */
  by: string;
  /** 承诺时限: the task is overdue this many hours after it opened. */
  timeLimitHours: number;
}

/** 容缺受理: a material a case may open without, uploaded within `dueDays` of the opening. */
export interface DeferrableMaterial {
  type: string;
  dueDays: number;
}

@Entity('matter')
@Check('matter_code_check', `code ~ '^[a-z][a-z0-9-]{1,63}$'`)
export class MatterEntity {
  @PrimaryColumn('text')
  code: string;

  @Column('text')
  title: string;

  @Column('text', { array: true })
  evidence: string[];

  @Column('text', { array: true })
  materials: string[];

  /** Rows written before `fields` existed have none: read as [] (MattersService). */
  @Column('jsonb', { name: 'on_complete' })
  onComplete: MatterNotification[];

  /** The materials of `materials` a case may open without (容缺受理). */
  // DEFERRABLE is a reserved word of SQL.
  @Column('jsonb', { name: 'deferrable_materials', default: () => "'[]'" })
  deferrable: DeferrableMaterial[];

  /** Rows written before approvals existed have none (the migration's default). */
  @Column('jsonb', { default: () => "'[]'" })
  approvals: MatterApproval[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
