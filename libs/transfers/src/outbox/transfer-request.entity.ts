import { Check, Column, CreateDateColumn, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { RequestKind } from '../topics.js';

export type TransferState = 'pending' | 'published' | 'accepted' | 'completed' | 'rejected' | 'superseded';

/**
 * The transactional outbox of utility requests, one row per request, also its progress. Written by
 * a case's completion through `OutboxWriter` (in the case's transaction), published and moved
 * forward by the relay, read for a case's view through `CaseTransfers`. The statements are few and
 * hot, so they are SQL in `outbox/` and `relay/`; this entity is the table's declaration, checked
 * against the migrations. The case is the cases lib's: a foreign key, no relation.
 */
@Entity('transfer_request')
@Unique('transfer_request_request_id_key', ['requestId'])
@Unique('transfer_request_case_id_utility_request_kind_key', ['caseId', 'utility', 'requestKind'])
@Check('transfer_request_kind_check', `request_kind IN ('transfer', 'discount', 'benefit')`)
@Check('transfer_request_benefit_check', `(request_kind = 'benefit') = (benefit IS NOT NULL)`)
@Check('transfer_request_state_check', `state IN ('pending', 'published', 'accepted', 'completed', 'rejected', 'superseded')`)
// The relay's poll: pending rows in outbox order; partial, so it stays small however many were delivered.
@Index('transfer_request_pending_idx', ['seq'], { where: `state = 'pending'` })
@Index('transfer_request_case_idx', ['caseId'])
// A recipient's pull (GET /v1/requests): its requests in outbox order.
@Index('transfer_request_recipient_idx', ['recipient', 'seq'])
export class TransferRequestEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  seq: string;

  @Column('uuid', { name: 'request_id' })
  requestId: string;

  @Column('uuid', { name: 'case_id' })
  @ForeignKey('service_case', { name: 'transfer_request_case_id_fkey', onDelete: 'NO ACTION' })
  caseId: string;

  /** The utility kind of a kind's transfer or discount; null for any other request. */
  @Column('text', { nullable: true })
  utility: string | null;

  /** The member the request goes to, resolved at completion; null only on rows written before recipients were registered. */
  @Column('text', { nullable: true })
  recipient: string | null;

  @Column('text', { name: 'request_kind' })
  requestKind: RequestKind;

  /** The benefit's code, for a benefit request. */
  @Column('text', { nullable: true })
  benefit: string | null;

  @Column('text')
  topic: string;

  @Column('text', { name: 'message_key' })
  messageKey: string;

  /** The event body without links (the relay signs them when it publishes). */
  @Column('jsonb')
  payload: Record<string, unknown>;

  @Column('text', { default: 'pending' })
  state: TransferState;

  @Column('text', { nullable: true })
  reference: string | null;

  @Column('text', { nullable: true })
  reason: string | null;

  @Column('integer', { default: 0 })
  sends: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The request that wrote the row (completion, resend): the published event's `correlationid`. */
  @Column('text', { name: 'correlation_id', nullable: true })
  correlationId: string | null;

  @Column('timestamptz', { name: 'published_at', nullable: true })
  publishedAt: Date | null;

  /** When the request was last re-sent: statuses signed before it answer the earlier send and are refused. */
  @Column('timestamptz', { name: 'resent_at', nullable: true })
  resentAt: Date | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
