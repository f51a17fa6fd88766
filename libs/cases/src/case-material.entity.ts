import { Check, Column, CreateDateColumn, Entity, ForeignKey, PrimaryColumn, Unique } from 'typeorm';

/**
 * A material uploaded at the window: its bytes, checked against the SHA-256 the case declared,
 * until a recipient fetches it through a signed link. Read and written with SQL in
 * `case-materials.service.ts` (bytes stay out of the entity manager's way); this entity is the
 * table's declaration, checked against the migrations.
 */
@Entity('case_material')
@Unique('case_material_case_id_type_key', ['caseId', 'type'])
@Check('case_material_sha256_check', `sha256 ~ '^[0-9a-f]{64}$'`)
export class CaseMaterialEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid', { name: 'case_id' })
  @ForeignKey('service_case', { name: 'case_material_case_id_fkey', onDelete: 'NO ACTION' })
  caseId: string;

  @Column('text')
  type: string;

  @Column('text')
  sha256: string;

  @Column('text', { name: 'content_type' })
  contentType: string;

  @Column('integer')
  size: number;

  @Column('bytea')
  bytes: Buffer;

  @Column('text', { name: 'uploaded_by' })
  uploadedBy: string;

  @CreateDateColumn({ name: 'uploaded_at', type: 'timestamptz' })
  uploadedAt: Date;
}
