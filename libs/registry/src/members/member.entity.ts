import type { MemberKind } from '@datarun/auth';
import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

// The kinds are the auth lib's roles (less `citizen`): one list, in one place.
export { MEMBER_KINDS, type MemberKind } from '@datarun/auth';

/** `suspended`: every token and signature of the member is refused until it is reinstated. */
export type MemberState = 'active' | 'suspended';
export const MEMBER_STATES: readonly MemberState[] = ['active', 'suspended'];

/** A JSON Web Key Set as registered (public keys only). */
export interface Jwks {
  keys: object[];
}

@Entity('member')
@Check('member_id_check', `id ~ '^[a-z0-9][a-z0-9.-]{1,127}$'`)
@Check('member_kind_check', `kind IN ('department', 'consumer', 'utility', 'auditor', 'admin')`)
@Check('member_state_check', `state IN ('active', 'suspended')`)
export class MemberEntity {
  @PrimaryColumn('text')
  id: string;

  @Column('text')
  name: string;

  @Column('text')
  kind: MemberKind;

  @Column('jsonb')
  jwks: Jwks;

  @Column('text', { default: 'active' })
  state: MemberState;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
