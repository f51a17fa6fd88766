import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One change of a case, in order (migration 74): written by triggers in the change's own
 * transaction, read by the case's event stream (CaseEventStream). This entity is the table's
 * declaration, checked against the migrations.
 */
@Entity('case_event')
@Index('case_event_case_idx', ['caseId', 'seq'])
export class CaseEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  seq: string;

  @Column('uuid', { name: 'case_id' })
  @ForeignKey('service_case', { name: 'case_event_case_id_fkey', onDelete: 'NO ACTION' })
  caseId: string;

  /** `case.<state>`, `approval.<state>`, `material.uploaded`, `request.<state>`. */
  @Column('text')
  type: string;

  @Column('jsonb')
  data: Record<string, unknown>;

  @Column('timestamptz', { default: () => 'now()' })
  at: Date;
}
