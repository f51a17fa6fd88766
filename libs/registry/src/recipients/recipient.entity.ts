import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { MemberEntity } from '../members/member.entity.js';

/** `kafka`: the member's own connector consumes its topics; `webhook`: the relay posts each request to its endpoint. */
export type RecipientDelivery = 'kafka' | 'webhook';
export const RECIPIENT_DELIVERIES: readonly RecipientDelivery[] = ['kafka', 'webhook'];

/** What a recipient can be asked to do (the request kinds of docs/api.md). */
export type RecipientRequestKind = 'transfer' | 'discount' | 'benefit';
export const RECIPIENT_REQUEST_KINDS: readonly RecipientRequestKind[] = ['transfer', 'discount', 'benefit'];

/** The utility kinds a matter may name instead of a member, each received by at most one member. */
export const UTILITY_KINDS = ['water', 'electricity', 'gas', 'cable', 'broadband', 'heat'] as const;
export type UtilityKind = (typeof UTILITY_KINDS)[number];

/** How a utility or department member receives the requests matters send it. */
@Entity('recipient')
@Check('recipient_delivery_check', `delivery IN ('kafka', 'webhook')`)
@Check('recipient_requests_check', `cardinality(requests) > 0 AND requests <@ ARRAY['transfer', 'discount', 'benefit']::text[]`)
@Check('recipient_endpoint_check', `(delivery = 'webhook') = (endpoint IS NOT NULL)`)
@Index('recipient_utility_kind_key', ['utilityKind'], { unique: true, where: 'utility_kind IS NOT NULL' })
export class RecipientEntity {
  @PrimaryColumn('text', { name: 'member_id' })
  memberId: string;

  @ManyToOne(() => MemberEntity, { nullable: false, onDelete: 'NO ACTION' })
  @JoinColumn({ name: 'member_id', foreignKeyConstraintName: 'recipient_member_id_fkey' })
  member?: MemberEntity;

  @Column('text')
  delivery: RecipientDelivery;

  @Column('text', { nullable: true })
  endpoint: string | null;

  @Column('text', { array: true })
  requests: RecipientRequestKind[];

  @Column('text', { name: 'utility_kind', nullable: true })
  utilityKind: UtilityKind | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
