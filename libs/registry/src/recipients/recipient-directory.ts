import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { MemberState } from '../members/member.entity.js';
import { type RecipientDelivery, type RecipientRequestKind, UTILITY_KINDS, type UtilityKind } from './recipient.entity.js';

/** How a member receives requests, as registered (POST /v1/members, PUT /v1/members/{id}/recipient). */
export interface RecipientSettings {
  delivery: RecipientDelivery;
  /** The webhook the relay posts to; only for `webhook`. */
  endpoint?: string;
  requests: RecipientRequestKind[];
  /** The utility kind this member receives for: a matter naming the kind means this member. */
  utilityKind?: UtilityKind;
}

/** A registered recipient with its member's name and state (a suspended one must be refused by the caller). */
export interface Recipient extends RecipientSettings {
  memberId: string;
  name: string;
  state: MemberState;
}

export function isUtilityKind(value: string): value is UtilityKind {
  return (UTILITY_KINDS as readonly string[]).includes(value);
}

interface RecipientRow {
  member_id: string;
  name: string;
  state: MemberState;
  delivery: RecipientDelivery;
  endpoint: string | null;
  requests: RecipientRequestKind[];
  utility_kind: UtilityKind | null;
}

const SELECT = `SELECT r.member_id, m.name, m.state, r.delivery, r.endpoint, r.requests, r.utility_kind
                  FROM recipient r JOIN member m ON m.id = r.member_id`;

/**
 * Who receives a matter's requests: the registry's port for cases (resolving a matter's `notify`
 * when a case completes), the relay (which topics and webhooks to serve) and the gateway (whose
 * status a request takes). Read from the database on every call: a change is seen at once.
 */
@Injectable()
export class RecipientDirectory {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The recipient a matter's `notify` names: a utility kind means the member registered for it,
   * anything else a member id. Undefined when nobody receives under that name. `em`: inside the
   * caller's transaction.
   */
  async resolve(notify: string, em: EntityManager = this.dataSource.manager): Promise<Recipient | undefined> {
    const rows: RecipientRow[] = await em.query(`${SELECT} WHERE ${isUtilityKind(notify) ? 'r.utility_kind' : 'r.member_id'} = $1`, [notify]);
    return rows.length ? recipientOf(rows[0]) : undefined;
  }

  /** The recipient settings of one member, undefined when it registered none. */
  async of(memberId: string, em: EntityManager = this.dataSource.manager): Promise<Recipient | undefined> {
    const rows: RecipientRow[] = await em.query(`${SELECT} WHERE r.member_id = $1`, [memberId]);
    return rows.length ? recipientOf(rows[0]) : undefined;
  }

  /** Every recipient whose member is active, in member id order. */
  async list(filter: { delivery?: RecipientDelivery } = {}): Promise<Recipient[]> {
    const params: unknown[] = [];
    let where = `m.state = 'active'`;
    if (filter.delivery) {
      params.push(filter.delivery);
      where += ' AND r.delivery = $1';
    }
    const rows: RecipientRow[] = await this.dataSource.query(`${SELECT} WHERE ${where} ORDER BY r.member_id`, params);
    return rows.map(recipientOf);
  }
}

/** The settings as the API shows them: absent rather than null. */
export function settingsOf(row: {
  delivery: RecipientDelivery;
  endpoint: string | null;
  requests: RecipientRequestKind[];
  utilityKind: UtilityKind | null;
}): RecipientSettings {
  return {
    delivery: row.delivery,
    ...(row.endpoint !== null ? { endpoint: row.endpoint } : {}),
    requests: [...row.requests],
    ...(row.utilityKind !== null ? { utilityKind: row.utilityKind } : {}),
  };
}

function recipientOf(r: RecipientRow): Recipient {
  return {
    memberId: r.member_id,
    name: r.name,
    state: r.state,
    ...settingsOf({ delivery: r.delivery, endpoint: r.endpoint, requests: r.requests, utilityKind: r.utility_kind }),
  };
}
