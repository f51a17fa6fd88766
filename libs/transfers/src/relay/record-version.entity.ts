import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The newest signed time of a record ingested from Kafka, per replica source and subject (a keyed
 * hash of the subject key value): record ingest refuses a record signed earlier, so a replayed old
 * record cannot roll the replica back. SQL in `record-ingest.ts`; this entity is the table's
 * declaration, checked against the migrations.
 */
@Entity('record_version')
export class RecordVersionEntity {
  @PrimaryColumn('text', { name: 'source_id' })
  sourceId: string;

  @PrimaryColumn('text', { name: 'subject_hash' })
  subjectHash: string;

  @Column('timestamptz', { name: 'signed_at' })
  signedAt: Date;

  /** Its `datarun-signature`: the same record again (a redelivery, a replay) is skipped, not stored. */
  @Column('text')
  signature: string;
}
