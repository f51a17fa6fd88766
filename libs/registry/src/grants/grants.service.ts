import { randomUUID } from 'node:crypto';
import { AuditLog, auditRefusals, changeBy } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { MatterEntity } from '../matters/matter.entity.js';
import { SOURCE_ID, SourcesService } from '../sources/sources.service.js';
import { SourceEntity } from '../sources/source.entity.js';
import { type GrantDecisionKind, GrantDecisionEntity, GrantEntity, type GrantState } from './grant.entity.js';

export interface RequestGrantCommand {
  readonly source: string;
  readonly fields: readonly string[];
  readonly verifyFields?: readonly string[];
  readonly unmaskedFields?: readonly string[];
  readonly purposes: readonly string[];
  readonly validUntil: string;
  readonly reason: string;
}

export interface GrantView {
  id: string;
  consumer: string;
  source: string;
  fields: string[];
  verifyFields: string[];
  unmaskedFields: string[];
  purposes: string[];
  validUntil: string;
  reason: string;
  state: GrantState;
  requestedBy: string;
  createdAt: string;
  decidedBy?: string;
  decidedAt?: string;
  decisions: Array<{ decision: GrantDecisionKind; member: string; actor: string; note?: string; at: string }>;
}

export const GRANT_STATES: readonly GrantState[] = ['requested', 'approved', 'rejected', 'revoked'];

const TRANSITIONS: Record<'approve' | 'reject' | 'revoke', { from: GrantState; to: GrantDecisionKind }> = {
  approve: { from: 'requested', to: 'approved' },
  reject: { from: 'requested', to: 'rejected' },
  revoke: { from: 'approved', to: 'revoked' },
};
export type GrantAction = keyof typeof TRANSITIONS;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Grants longer than this are refused: access is reviewed at least every few years. */
const MAX_VALIDITY_MS = 3 * 366 * 24 * 3600 * 1000;

@Injectable()
export class GrantsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sources: SourcesService,
    private readonly audit: AuditLog,
  ) {}

  /** A request by a member that may not ask for access (its role) is audited as refused (auditRefusals). */
  request(caller: Caller, cmd: RequestGrantCommand): Promise<GrantView> {
    const object = SOURCE_ID.test(cmd.source) ? `source:${cmd.source}` : 'source';
    return auditRefusals(this.audit, { caller, action: 'grant.requested', object, scope: 'authority' }, () => this.requestGrant(caller, cmd));
  }

  private async requestGrant(caller: Caller, cmd: RequestGrantCommand): Promise<GrantView> {
    requireRole(caller, 'consumer', 'utility');
    const { compiled } = await this.sources.currentSchema(cmd.source);
    const verifyFields = cmd.verifyFields ?? [];
    const unknown = [...cmd.fields, ...verifyFields].filter((f) => !compiled.fields.includes(f));
    if (unknown.length) throw new Problem('VALIDATION_FAILED', `source ${cmd.source} has no field ${[...new Set(unknown)].join(', ')}`);
    const unmaskedFields = cmd.unmaskedFields ?? [];
    const notRead = unmaskedFields.filter((f) => !cmd.fields.includes(f));
    if (notRead.length) throw new Problem('VALIDATION_FAILED', `unmaskedFields must be fields the grant reads: ${notRead.join(', ')}`);
    if (cmd.fields.length + verifyFields.length === 0) throw new Problem('VALIDATION_FAILED', 'a grant names at least one field to read or verify');
    const until = new Date(cmd.validUntil);
    if (Number.isNaN(until.getTime()) || until.getTime() <= Date.now()) throw new Problem('VALIDATION_FAILED', 'validUntil must be a date-time in the future');
    if (until.getTime() - Date.now() > MAX_VALIDITY_MS) throw new Problem('VALIDATION_FAILED', 'validUntil may be at most three years ahead');
    const known = await this.dataSource.getRepository(MatterEntity).findBy({ code: In([...cmd.purposes]) });
    const missing = cmd.purposes.filter((p) => !known.some((m) => m.code === p));
    if (missing.length) throw new Problem('MATTER_NOT_FOUND', `no matter ${missing.join(', ')}`);

    const id = randomUUID();
    await this.dataSource.transaction(async (em) => {
      await em.getRepository(GrantEntity).insert({
        id,
        consumerId: caller.memberId,
        sourceId: cmd.source,
        fields: [...new Set(cmd.fields)],
        verifyFields: [...new Set(verifyFields)],
        unmaskedFields: [...new Set(unmaskedFields)],
        purposes: [...new Set(cmd.purposes)],
        validUntil: until,
        reason: cmd.reason,
        state: 'requested',
        requestedBy: caller.actor,
      });
      await this.audit.appendWithin(em, changeBy(caller, 'grant.requested', `grant:${id}`, { sourceId: cmd.source, fields: [...cmd.fields] }));
    });
    return this.get(id);
  }

  /** A department's queue (grants on its sources), a consumer's own grants, or all for an admin. */
  async list(caller: Caller, filter: { state?: string; source?: string }): Promise<GrantView[]> {
    requireRole(caller, 'department', 'consumer', 'utility', 'admin');
    if (filter.state !== undefined && !GRANT_STATES.includes(filter.state as GrantState))
      throw new Problem('VALIDATION_FAILED', `state must be one of ${GRANT_STATES.join(', ')}`);
    const qb = this.dataSource.getRepository(GrantEntity).createQueryBuilder('g').orderBy('g.created_at', 'DESC').limit(1000);
    if (caller.role === 'department') qb.innerJoin(SourceEntity, 's', 's.id = g.source_id AND s.owner_id = :owner', { owner: caller.memberId });
    else if (caller.role !== 'admin') qb.andWhere('g.consumer_id = :consumer', { consumer: caller.memberId });
    if (filter.state) qb.andWhere('g.state = :state', { state: filter.state });
    if (filter.source) qb.andWhere('g.source_id = :source', { source: filter.source });
    const grants = await qb.getMany();
    return this.withDecisions(grants);
  }

  /**
   * Approve, reject or revoke: only the department that owns the source, only from the right state.
   * A grant decides who reads people's records, so every refused decision is audited, whatever
   * the reason (role, owner, unknown grant, state), with the grant and never the note.
   */
  decide(caller: Caller, id: string, action: GrantAction, note?: string): Promise<GrantView> {
    const object = UUID.test(id) ? `grant:${id}` : 'grant';
    const about = { caller, action: `grant.${TRANSITIONS[action].to}`, object, scope: 'any' } as const;
    return auditRefusals(this.audit, about, () => this.decideGrant(caller, id, action, note));
  }

  private async decideGrant(caller: Caller, id: string, action: GrantAction, note?: string): Promise<GrantView> {
    requireRole(caller, 'department');
    const { from, to } = TRANSITIONS[action];
    await this.dataSource.transaction(async (em) => {
      const grant = await em.getRepository(GrantEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!grant) throw new Problem('GRANT_NOT_FOUND', `no grant ${id}`);
      const source = await em.getRepository(SourceEntity).findOneByOrFail({ id: grant.sourceId });
      if (source.ownerId !== caller.memberId) throw new Problem('NOT_OWNER', `grant ${id} is on source ${source.id} of another department`);
      if (grant.state !== from) throw new Problem('STATE_CONFLICT', `grant ${id} is ${grant.state}; only a ${from} grant can be ${to}`);
      await em.getRepository(GrantEntity).update({ id }, { state: to, decidedBy: caller.memberId, decidedAt: new Date() });
      await em.getRepository(GrantDecisionEntity).insert({ grantId: id, decision: to, memberId: caller.memberId, actor: caller.actor, note: note ?? null });
      await this.audit.appendWithin(em, changeBy(caller, `grant.${to}`, `grant:${id}`, { sourceId: grant.sourceId, fields: grant.fields }));
    });
    return this.get(id);
  }

  /**
   * One grant as `caller` may see it: an admin any, a consumer its own, a department one on its
   * sources. Any other grant is GRANT_NOT_FOUND, like one that does not exist.
   */
  async view(caller: Caller, id: string): Promise<GrantView> {
    const grant = await this.get(id);
    if (caller.role === 'admin' || grant.consumer === caller.memberId) return grant;
    // No ROLE_FORBIDDEN for an auditor or a citizen: after the lookup above it would tell them the
    // grant exists. Whoever may not see it learns only GRANT_NOT_FOUND, as for a grant that does not.
    const owner = caller.role === 'department' ? (await this.dataSource.getRepository(SourceEntity).findOneBy({ id: grant.source }))?.ownerId : undefined;
    if (owner !== caller.memberId) throw new Problem('GRANT_NOT_FOUND', `no grant ${id}`);
    return grant;
  }

  async get(id: string): Promise<GrantView> {
    const grant = await this.dataSource.getRepository(GrantEntity).findOneBy({ id });
    if (!grant) throw new Problem('GRANT_NOT_FOUND', `no grant ${id}`);
    return (await this.withDecisions([grant]))[0];
  }

  private async withDecisions(grants: GrantEntity[]): Promise<GrantView[]> {
    if (grants.length === 0) return [];
    const decisions = await this.dataSource.getRepository(GrantDecisionEntity).find({ where: { grantId: In(grants.map((g) => g.id)) }, order: { id: 'ASC' } });
    return grants.map((g) => ({
      id: g.id,
      consumer: g.consumerId,
      source: g.sourceId,
      fields: g.fields,
      verifyFields: g.verifyFields,
      unmaskedFields: g.unmaskedFields,
      purposes: g.purposes,
      validUntil: g.validUntil.toISOString(),
      reason: g.reason,
      state: g.state,
      requestedBy: g.requestedBy,
      createdAt: g.createdAt.toISOString(),
      ...(g.decidedBy ? { decidedBy: g.decidedBy, decidedAt: g.decidedAt?.toISOString() } : {}),
      decisions: decisions
        .filter((d) => d.grantId === g.id)
        .map((d) => ({ decision: d.decision, member: d.memberId, actor: d.actor, ...(d.note ? { note: d.note } : {}), at: d.decidedAt.toISOString() })),
    }));
  }
}
