import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { MemberEntity } from '../members/member.entity.js';

export type SourceMode = 'replica' | 'federated';
export type Classification = 'public' | 'internal' | 'sensitive' | 'secret';
export const CLASSIFICATIONS: readonly Classification[] = ['public', 'internal', 'sensitive', 'secret'];

@Entity('source')
@Check('source_id_check', `id ~ '^[a-z][a-z0-9-]{1,63}$'`)
@Check('source_mode_check', `mode IN ('replica', 'federated')`)
export class SourceEntity {
  @PrimaryColumn('text')
  id: string;

  @Column('text')
  title: string;

  @Column('text', { name: 'owner_id' })
  ownerId: string;

  @ManyToOne(() => MemberEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'owner_id', foreignKeyConstraintName: 'source_owner_id_fkey' })
  owner?: MemberEntity;

  @Column('text', { name: 'subject_key' })
  subjectKey: string;

  @Column('text')
  mode: SourceMode;

  @Column('text', { nullable: true })
  endpoint: string | null;

  @Column('integer', { name: 'current_version' })
  currentVersion: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

@Entity('source_version')
export class SourceVersionEntity {
  @PrimaryColumn('text', { name: 'source_id' })
  sourceId: string;

  @ManyToOne(() => SourceEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'source_version_source_id_fkey' })
  source?: SourceEntity;

  @PrimaryColumn('integer')
  version: number;

  /** JSON Schema draft 2020-12 of one record. */
  @Column('jsonb')
  schema: object;

  @Column('jsonb')
  classification: Record<string, Classification>;

  @Column('text', { name: 'created_by' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
