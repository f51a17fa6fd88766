import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

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

  /** No foreign key (migration 74): an event must never wait for a lock on its case's row. */
  @Column('uuid', { name: 'case_id' })
  caseId: string;

  /** `case.<state>`, `approval.<state>`, `material.uploaded`, `request.<state>`. */
  @Column('text')
  type: string;

  @Column('jsonb')
  data: Record<string, unknown>;

  @Column('timestamptz', { default: () => 'now()' })
  at: Date;
}
