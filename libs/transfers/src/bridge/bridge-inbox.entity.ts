import { Check, Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Each bridge's inbox: the request ids its utility has applied, with the outcome, recorded before
 * the offset is committed (in production: the utility's own database). SQL in `utility-bridge.ts`;
 * this entity is the table's declaration, checked against the migrations.
 */
@Entity('bridge_inbox')
@Check('bridge_inbox_outcome_check', `outcome IN ('completed', 'rejected')`)
export class BridgeInboxEntity {
  @PrimaryColumn('text')
  utility: string;

  @PrimaryColumn('uuid', { name: 'event_id' })
  eventId: string;

  @Column('text')
  outcome: 'completed' | 'rejected';

  @Column('text', { nullable: true })
  reference: string | null;

  @Column('text', { nullable: true })
  reason: string | null;

  @Column('integer', { default: 0 })
  redeliveries: number;

  @CreateDateColumn({ name: 'processed_at', type: 'timestamptz' })
  processedAt: Date;
}
