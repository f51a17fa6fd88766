import { Column, Entity, ForeignKey, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * The replica store (数据归集): one row per source and subject key, the record a department pushed
 * and the schema version it was validated against. Written through `ReplicaRecords` (the registry's
 * ingest), read by `ReplicaSourceAdapter` on the lookup hot path. The source it belongs to is the
 * registry's: a foreign key, no relation.
 */
@Entity('source_record')
export class SourceRecordEntity {
  @PrimaryColumn('text', { name: 'source_id' })
  @ForeignKey('source', { name: 'source_record_source_id_fkey', onDelete: 'NO ACTION' })
  sourceId: string;

  @PrimaryColumn('text', { name: 'subject_key' })
  subjectKey: string;

  @Column('jsonb')
  data: object;

  @Column('integer', { name: 'schema_version' })
  schemaVersion: number;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export const SOURCES_ENTITIES = [SourceRecordEntity];
