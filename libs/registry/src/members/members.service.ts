import { isDeepStrictEqual } from 'node:util';
import { type Caller, type Jwks as PublicJwks, jwksToKeyObjects, requireMember, requireRole } from '@datarun/auth';
import type { EntityManager } from 'typeorm';
import { removeKey, rotateKeys, withConfiguredKeys } from './key-rotation.js';
import { MemberKeyDirectory } from './member-key-directory.js';
import { AuditLog, auditRefusals, changeBy, type RefusalScope } from '@datarun/audit';
import { EgressPolicy } from '@datarun/egress';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { DataSource, In, MoreThan, QueryFailedError } from 'typeorm';
import { type RecipientSettings, settingsOf } from '../recipients/recipient-directory.js';
import { RecipientEntity } from '../recipients/recipient.entity.js';
import { checkedRecipientSettings, type RecipientSettingsInput } from '../recipients/recipient-settings.js';
import { type Jwks, MEMBER_KINDS, MEMBER_STATES, MemberEntity, type MemberKind, type MemberState } from './member.entity.js';

export const MEMBER_ID = /^[a-z0-9][a-z0-9.-]{1,127}$/;
export { ADMIN_MEMBER_ID } from '@datarun/auth';

export interface RegisterMemberCommand {
  readonly id: string;
  readonly name: string;
  readonly kind: MemberKind;
  readonly jwks: unknown;
  /** How it receives the requests matters send it (utility and department members only). */
  readonly recipient?: RecipientSettingsInput;
}

export interface MemberListQuery {
  readonly kind?: string;
  /** `active` or `suspended`. */
  readonly state?: string;
  /** The `next` of the previous page. */
  readonly cursor?: string;
  readonly limit?: number;
}

export const MEMBER_PAGE = { default: 50, max: 200 } as const;

/** The longest reason an administrator may give for a suspension or reinstatement (it goes to the audit log). */
export const MAX_STATE_REASON = 500;

export interface MemberView {
  id: string;
  name: string;
  kind: MemberKind;
  state: MemberState;
  jwks: Jwks;
  /** How the member receives requests; null when it receives none. */
  recipient: RecipientSettings | null;
  createdAt: string;
  updatedAt: string;
}

@Injectable()
export class MembersService {
  /** The directory is told of key changes so this process stops honouring a replaced key at once. */
  constructor(
    private readonly dataSource: DataSource,
    private readonly directory: MemberKeyDirectory,
    private readonly audit: AuditLog,
    private readonly egress: EgressPolicy,
  ) {}

  /** A registration by a member that is not an admin is audited as refused (auditRefusals). */
  register(caller: Caller, cmd: RegisterMemberCommand): Promise<MemberView> {
    return auditRefusals(this.audit, refused(caller, 'member.registered', cmd.id, 'authority'), () => this.registerMember(caller, cmd));
  }

  private async registerMember(caller: Caller, cmd: RegisterMemberCommand): Promise<MemberView> {
    requireRole(caller, 'admin');
    if (!MEMBER_ID.test(cmd.id)) throw new Problem('VALIDATION_FAILED', `id must match ${MEMBER_ID.source}`);
    if (!MEMBER_KINDS.includes(cmd.kind)) throw new Problem('VALIDATION_FAILED', `kind must be one of ${MEMBER_KINDS.join(', ')}`);
    const jwks = checkedJwks(cmd.jwks);
    const recipient = cmd.recipient === undefined ? undefined : checkedRecipientSettings(cmd.kind, cmd.recipient, this.egress);
    return this.dataSource.transaction(async (em) => {
      const repo = em.getRepository(MemberEntity);
      if (await repo.existsBy({ id: cmd.id })) throw new Problem('ALREADY_EXISTS', `member ${cmd.id} is already registered`);
      await repo.insert({ id: cmd.id, name: cmd.name, kind: cmd.kind, jwks });
      if (recipient) await storeRecipient(em, cmd.id, recipient);
      await this.audit.appendWithin(
        em,
        changeBy(caller, 'member.registered', `member:${cmd.id}`, recipient ? { reason: `recipient ${describe(recipient)}` } : {}),
      );
      return this.viewOf(em, await repo.findOneByOrFail({ id: cmd.id }));
    });
  }

  /**
   * Sets how a utility or department member receives requests (the member itself or an admin),
   * replacing what it had. Where requests go decides who reads a person's data, so every refused
   * change is audited, whatever the reason, never with the settings sent.
   */
  setRecipient(caller: Caller, id: string, input: RecipientSettingsInput): Promise<MemberView> {
    return auditRefusals(this.audit, refused(caller, 'member.recipient-set', id, 'any'), async () => {
      if (caller.role !== 'admin' && caller.memberId !== id) {
        throw new Problem('ROLE_FORBIDDEN', 'only the member itself or an administrator may set where its requests go');
      }
      return this.dataSource.transaction(async (em) => {
        const repo = em.getRepository(MemberEntity);
        const member = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!member) throw new Problem('MEMBER_NOT_FOUND', `no member ${id}`);
        const settings = checkedRecipientSettings(member.kind, input, this.egress);
        await storeRecipient(em, id, settings);
        await this.audit.appendWithin(em, changeBy(caller, 'member.recipient-set', `member:${id}`, { reason: describe(settings) }));
        return this.viewOf(em, await repo.findOneByOrFail({ id }));
      });
    });
  }

  /**
   * Replaces a member's JWKS with an overlap (rotateKeys): the keys sent are the member's keys, and
   * a key they leave out keeps verifying for REPLACED_KEY_OVERLAP_SECONDS (shown with its `exp`),
   * so that tokens and signed messages made with it just before are not refused.
   */
  async replaceKeys(caller: Caller, id: string, jwksInput: unknown): Promise<MemberView> {
    // Checked inside the change, after the caller's right to it: a JWKS the rules refuse is a refused key change too.
    return this.changeKeys(caller, id, 'member.keys-replaced', (current, now) => rotateKeys(current, checkedJwks(jwksInput) as unknown as PublicJwks, now));
  }

  /** Removes one key at once (a leaked key): it verifies nothing from then on (removeKey). */
  async removeKey(caller: Caller, id: string, kid: string): Promise<MemberView> {
    return this.changeKeys(caller, id, 'member.key-removed', (current, now) => removeKey(current, kid, now), kid);
  }

  /**
   * A member's keys decide whom every process believes, so every refused key change is audited,
   * whatever the reason (role, unknown member or key, a JWKS the rules refuse), never with the keys sent.
   */
  private changeKeys(
    caller: Caller,
    id: string,
    action: string,
    change: (current: PublicJwks, nowSec: number) => PublicJwks,
    kid?: string,
  ): Promise<MemberView> {
    return auditRefusals(this.audit, refused(caller, action, id, 'any'), async () => {
      if (caller.role !== 'admin' && caller.memberId !== id) {
        throw new Problem('ROLE_FORBIDDEN', 'only the member itself or an administrator may change its keys');
      }
      const member = await this.dataSource.transaction(async (em) => {
        const current = await lockedJwks(em, id);
        if (!current) throw new Problem('MEMBER_NOT_FOUND', `no member ${id}`);
        const jwks = checkedJwks(change(current, Math.floor(Date.now() / 1000)));
        const repo = em.getRepository(MemberEntity);
        await repo.update({ id }, { jwks });
        await this.audit.appendWithin(em, changeBy(caller, action, `member:${id}`, kid ? { reason: `kid ${kid}` } : {}));
        return this.viewOf(em, await repo.findOneByOrFail({ id }));
      });
      this.directory.invalidate(id);
      return member;
    });
  }

  /**
   * Suspends a member (admin): from then on every token and signature of it is refused, here at
   * once and in every other process within the key directory's few seconds (MemberKeyDirectory),
   * until it is reinstated. Its keys and everything it registered stay. The reason goes to the
   * audit record. An admin cannot suspend its own member: nobody might be left to reinstate it.
   */
  suspend(caller: Caller, id: string, reason?: string): Promise<MemberView> {
    return this.changeState(caller, id, 'suspended', reason);
  }

  /** Ends a suspension (admin): the member's tokens verify again, everywhere within the same few seconds. */
  reinstate(caller: Caller, id: string, reason?: string): Promise<MemberView> {
    return this.changeState(caller, id, 'active', reason);
  }

  /** A member's state is who may act at all: every refused change of it is audited. */
  private changeState(caller: Caller, id: string, to: MemberState, reason?: string): Promise<MemberView> {
    const action = to === 'suspended' ? 'member.suspended' : 'member.reinstated';
    return auditRefusals(this.audit, refused(caller, action, id, 'any'), async () => {
      requireRole(caller, 'admin');
      if (reason !== undefined && (typeof reason !== 'string' || reason.length === 0 || reason.length > MAX_STATE_REASON))
        throw new Problem('VALIDATION_FAILED', `reason must be a text of 1 to ${MAX_STATE_REASON} characters`);
      if (to === 'suspended' && id === caller.memberId) throw new Problem('STATE_CONFLICT', 'an administrator cannot suspend its own member');
      const member = await this.dataSource.transaction(async (em) => {
        const repo = em.getRepository(MemberEntity);
        const current = await repo.findOne({ select: { id: true, state: true }, where: { id }, lock: { mode: 'pessimistic_write' } });
        if (!current) throw new Problem('MEMBER_NOT_FOUND', `no member ${id}`);
        if (current.state === to) throw new Problem('STATE_CONFLICT', `member ${id} is already ${to}`);
        await repo.update({ id }, { state: to });
        await this.audit.appendWithin(em, changeBy(caller, action, `member:${id}`, reason ? { reason } : {}));
        return this.viewOf(em, await repo.findOneByOrFail({ id }));
      });
      this.directory.invalidate(id);
      return member;
    });
  }

  /**
   * Members in id order, a page at a time (admin): the cursor is the last id of the previous page,
   * so a member registered meanwhile is neither skipped nor repeated.
   */
  async list(caller: Caller, query: MemberListQuery): Promise<{ items: MemberView[]; next?: string }> {
    requireRole(caller, 'admin');
    if (query.kind !== undefined && !MEMBER_KINDS.includes(query.kind as MemberKind)) {
      throw new Problem('VALIDATION_FAILED', `kind must be one of ${MEMBER_KINDS.join(', ')}`);
    }
    if (query.state !== undefined && !MEMBER_STATES.includes(query.state as MemberState)) {
      throw new Problem('VALIDATION_FAILED', `state must be one of ${MEMBER_STATES.join(', ')}`);
    }
    if (query.cursor !== undefined && !MEMBER_ID.test(query.cursor)) throw new Problem('VALIDATION_FAILED', 'cursor must be the next value of a previous page');
    const limit = query.limit ?? MEMBER_PAGE.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > MEMBER_PAGE.max)
      throw new Problem('VALIDATION_FAILED', `limit must be a whole number from 1 to ${MEMBER_PAGE.max}`);
    const rows = await this.dataSource.getRepository(MemberEntity).find({
      where: {
        ...(query.kind ? { kind: query.kind as MemberKind } : {}),
        ...(query.state ? { state: query.state as MemberState } : {}),
        ...(query.cursor ? { id: MoreThan(query.cursor) } : {}),
      },
      order: { id: 'ASC' },
      take: limit + 1,
    });
    const page = rows.slice(0, limit);
    const recipients = await recipientsOf(
      this.dataSource.manager,
      page.map((m) => m.id),
    );
    const items = page.map((m) => memberView(m, recipients.get(m.id)));
    return rows.length > limit ? { items, next: items[items.length - 1].id } : { items };
  }

  /** One member with its public keys, for any member (a citizen's token reads no member). */
  async get(caller: Caller, id: string): Promise<MemberView> {
    requireMember(caller);
    const member = await this.dataSource.getRepository(MemberEntity).findOneBy({ id });
    if (!member) throw new Problem('MEMBER_NOT_FOUND', `no member ${id}`);
    return this.viewOf(this.dataSource.manager, member);
  }

  private async viewOf(em: EntityManager, member: MemberEntity): Promise<MemberView> {
    return memberView(member, (await recipientsOf(em, [member.id])).get(member.id));
  }

  /**
   * Seeding (the platform administrator at every registry start, demo members): creates the member
   * or makes sure its configured keys are among its keys, never fails on existing. Keys rotated in
   * since (PUT keys) stay: configuration adds its keys and removes none (withConfiguredKeys).
   */
  async ensure(id: string, name: string, kind: MemberKind, jwks: Jwks): Promise<void> {
    const configured = checkedJwks(jwks) as unknown as PublicJwks;
    await this.dataSource.transaction(async (em) => {
      const inserted: unknown[] = await em.query('INSERT INTO member (id, name, kind, jwks) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING RETURNING id', [
        id,
        name,
        kind,
        JSON.stringify(jwks),
      ]);
      const next = inserted.length > 0 ? undefined : withConfiguredKeys(await lockedJwks(em, id), configured, Math.floor(Date.now() / 1000));
      if (next) await em.getRepository(MemberEntity).update({ id }, { jwks: next as unknown as Jwks });
      const changed = inserted.length > 0 || next !== undefined;
      // Configuration (the admin key) and seeding change keys too: recorded, as any key change.
      if (changed)
        await this.audit.appendWithin(em, {
          memberId: 'datarun',
          actor: 'configuration',
          action: 'member.keys-configured',
          decision: 'allowed',
          object: `member:${id}`,
        });
    });
    this.directory.invalidate(id);
  }

  /**
   * Seeding (the demo city's recipients): gives an existing member these recipient settings,
   * checked as any registration's, when it has other or none; recorded as configuration, as
   * `ensure` records keys. Returns whether anything changed.
   */
  async ensureRecipient(id: string, input: RecipientSettingsInput): Promise<boolean> {
    return this.dataSource.transaction(async (em) => {
      const member = await em.getRepository(MemberEntity).findOne({ select: { id: true, kind: true }, where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!member) throw new Problem('MEMBER_NOT_FOUND', `no member ${id}`);
      const settings = checkedRecipientSettings(member.kind, input, this.egress);
      if (isDeepStrictEqual((await recipientsOf(em, [id])).get(id), settings)) return false;
      await storeRecipient(em, id, settings);
      await this.audit.appendWithin(em, {
        memberId: 'datarun',
        actor: 'configuration',
        action: 'member.recipient-set',
        decision: 'allowed',
        object: `member:${id}`,
        reason: describe(settings),
      });
      return true;
    });
  }
}

/** The member's stored JWKS, its row locked for the rest of the transaction; undefined: no such member. */
async function lockedJwks(em: EntityManager, id: string): Promise<PublicJwks | undefined> {
  const row = await em.getRepository(MemberEntity).findOne({ select: { id: true, jwks: true }, where: { id }, lock: { mode: 'pessimistic_write' } });
  return row?.jwks as unknown as PublicJwks | undefined;
}

function checkedJwks(input: unknown): Jwks {
  jwksToKeyObjects(input); // throws VALIDATION_FAILED naming the bad key
  return input as Jwks;
}

/** What a refused member change was about: the member, named only by a well-formed id. */
function refused(caller: Caller, action: string, id: string, scope: RefusalScope) {
  return { caller, action, object: MEMBER_ID.test(id) ? `member:${id}` : 'member', scope };
}

function memberView(m: MemberEntity, recipient: RecipientSettings | undefined): MemberView {
  return {
    id: m.id,
    name: m.name,
    kind: m.kind,
    state: m.state,
    jwks: m.jwks,
    recipient: recipient ?? null,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}

/** The recipient settings of those of `ids` that have any (one query). */
async function recipientsOf(em: EntityManager, ids: readonly string[]): Promise<Map<string, RecipientSettings>> {
  const rows = ids.length ? await em.getRepository(RecipientEntity).findBy({ memberId: In([...ids]) }) : [];
  return new Map(rows.map((r) => [r.memberId, settingsOf(r)]));
}

/**
 * Stores a member's settings, replacing earlier ones. A utility kind has one recipient: a kind
 * another member receives for is refused (409), also when two registrations race for it.
 */
async function storeRecipient(em: EntityManager, memberId: string, settings: RecipientSettings): Promise<void> {
  if (settings.utilityKind) {
    const holder = await em.getRepository(RecipientEntity).findOne({ select: { memberId: true }, where: { utilityKind: settings.utilityKind } });
    if (holder && holder.memberId !== memberId) throw kindTaken(settings.utilityKind, holder.memberId);
  }
  try {
    await em.query(
      `INSERT INTO recipient (member_id, delivery, endpoint, requests, utility_kind) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (member_id) DO UPDATE
         SET delivery = excluded.delivery, endpoint = excluded.endpoint, requests = excluded.requests, utility_kind = excluded.utility_kind, updated_at = now()`,
      [memberId, settings.delivery, settings.endpoint ?? null, settings.requests, settings.utilityKind ?? null],
    );
  } catch (error) {
    if (error instanceof QueryFailedError && (error.driverError as { constraint?: string }).constraint === 'recipient_utility_kind_key') {
      throw kindTaken(settings.utilityKind!, 'another member');
    }
    throw error;
  }
}

const kindTaken = (kind: string, holder: string) =>
  new Problem('ALREADY_EXISTS', `${holder} already receives the ${kind} requests: a utility kind has one recipient`);

/** The settings in an audit record's reason, e.g. `webhook http://…/v1/webhooks/x transfer,discount for broadband`. */
function describe(s: RecipientSettings): string {
  return [s.delivery, s.endpoint, s.requests.join(','), s.utilityKind ? `for ${s.utilityKind}` : undefined].filter(Boolean).join(' ');
}
