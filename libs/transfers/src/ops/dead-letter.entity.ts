import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * Every dead letter the relay recorded, for listing and replay (`npm run dlq`), by its place on the
 * dead-letter topic. SQL in `dead-letter-recorder.ts` and `dead-letters.service.ts`; this entity is
 * the table's declaration, checked against the migrations.
 */
@Entity('dead_letter')
@Unique('dead_letter_dlq_partition_dlq_offset_key', ['dlqPartition', 'dlqOffset'])
@Index('dead_letter_time_idx', ['deadLetteredAt'])
export class DeadLetterEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column('integer', { name: 'dlq_partition' })
  dlqPartition: number;

  @Column('bigint', { name: 'dlq_offset' })
  dlqOffset: string;

  @Column('text')
  topic: string;

  @Column('text', { name: 'message_key', nullable: true })
  messageKey: string | null;

  @Column('bytea', { nullable: true })
  value: Buffer | null;

  @Column('jsonb')
  headers: Record<string, unknown>;

  @Column('text')
  reason: string;

  @Column('text', { name: 'dead_lettered_by' })
  deadLetteredBy: string;

  @Column('timestamptz', { name: 'dead_lettered_at' })
  deadLetteredAt: Date;

  @Column('integer', { default: 0 })
  replays: number;

  @Column('timestamptz', { name: 'replayed_at', nullable: true })
  replayedAt: Date | null;

  /** Who vouched for its origin with a seal (`datarun`, or a connector's member); null: planted, never replayed. */
  @Column('text', { name: 'sealed_by', nullable: true })
  sealedBy: string | null;

  /** Why it counts as planted (no seal, a broken one, a member that does not receive on its topic). */
  @Column('text', { name: 'planted_reason', nullable: true })
  plantedReason: string | null;
}
