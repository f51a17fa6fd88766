import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The outbox publisher's lease, one row (`outbox`): which relay may publish, under which epoch,
 * until when (the database's clock). SQL in `relay-lease.ts`; this entity is the table's
 * declaration, checked against the migrations.
 */
@Entity('relay_lease')
@Check('relay_lease_name_check', `name = 'outbox'`)
export class RelayLeaseEntity {
  @PrimaryColumn('text')
  name: string;

  /** Moves on at every takeover: a write fenced by an older epoch finds nothing to write. */
  @Column('bigint')
  epoch: string;

  /** The relay instance holding it (host, process and a random part), for the logs and operators. */
  @Column('text')
  holder: string;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt: Date;
}
