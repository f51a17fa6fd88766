import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** What a recipient is asked to do when a case of the matter completes. */
export interface MatterNotification {
  notify: string;
  request: 'transfer' | 'discount';
  materials: string[];
  /** The role of the party who holds the account afterwards; absent = the case's first party. */
  holderRole?: string;
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

  @Column('jsonb', { name: 'on_complete' })
  onComplete: MatterNotification[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
