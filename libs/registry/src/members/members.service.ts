import { type Caller, jwksToKeyObjects, requireRole } from '@datarun/auth';
import { MemberKeyDirectory } from './member-key-directory.js';
import { AuditLog, changeBy } from '@datarun/audit';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { DataSource, MoreThan } from 'typeorm';
import { type Jwks, MEMBER_KINDS, MemberEntity, type MemberKind } from './member.entity.js';

export const MEMBER_ID = /^[a-z0-9][a-z0-9.-]{1,127}$/;
export { ADMIN_MEMBER_ID } from '@datarun/auth';

export interface RegisterMemberCommand {
  readonly id: string;
  readonly name: string;
  readonly kind: MemberKind;
  readonly jwks: unknown;
}

export interface MemberListQuery {
  readonly kind?: string;
  /** The `next` of the previous page. */
  readonly cursor?: string;
  readonly limit?: number;
}

export const MEMBER_PAGE = { default: 50, max: 200 } as const;

export interface MemberView {
  id: string;
  name: string;
  kind: MemberKind;
  jwks: Jwks;
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
  ) {}

  async register(caller: Caller, cmd: RegisterMemberCommand): Promise<MemberView> {
    requireRole(caller, 'admin');
    if (!MEMBER_ID.test(cmd.id)) throw new Problem('VALIDATION_FAILED', `id must match ${MEMBER_ID.source}`);
    if (!MEMBER_KINDS.includes(cmd.kind)) throw new Problem('VALIDATION_FAILED', `kind must be one of ${MEMBER_KINDS.join(', ')}`);
    const jwks = checkedJwks(cmd.jwks);
    return this.dataSource.transaction(async (em) => {
      const repo = em.getRepository(MemberEntity);
      if (await repo.existsBy({ id: cmd.id })) throw new Problem('ALREADY_EXISTS', `member ${cmd.id} is already registered`);
      await repo.insert({ id: cmd.id, name: cmd.name, kind: cmd.kind, jwks });
      await this.audit.appendWithin(em, changeBy(caller, 'member.registered', `member:${cmd.id}`));
      return memberView(await repo.findOneByOrFail({ id: cmd.id }));
    });
  }

  /** Replaces a member's JWKS. A member rotates by publishing old and new keys together, then dropping the old. */
  async replaceKeys(caller: Caller, id: string, jwksInput: unknown): Promise<MemberView> {
    if (caller.role !== 'admin' && caller.memberId !== id) {
      throw new Problem('ROLE_FORBIDDEN', 'only the member itself or an administrator may replace its keys');
    }
    const jwks = checkedJwks(jwksInput);
    const member = await this.dataSource.transaction(async (em) => {
      const repo = em.getRepository(MemberEntity);
      const result = await repo.update({ id }, { jwks });
      if (!result.affected) throw new Problem('MEMBER_NOT_FOUND', `no member ${id}`);
      await this.audit.appendWithin(em, changeBy(caller, 'member.keys-replaced', `member:${id}`));
      return repo.findOneByOrFail({ id });
    });
    this.directory.invalidate(id);
    return memberView(member);
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
    if (query.cursor !== undefined && !MEMBER_ID.test(query.cursor)) throw new Problem('VALIDATION_FAILED', 'cursor must be the next value of a previous page');
    const limit = query.limit ?? MEMBER_PAGE.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > MEMBER_PAGE.max)
      throw new Problem('VALIDATION_FAILED', `limit must be a whole number from 1 to ${MEMBER_PAGE.max}`);
    const rows = await this.dataSource.getRepository(MemberEntity).find({
      where: { ...(query.kind ? { kind: query.kind as MemberKind } : {}), ...(query.cursor ? { id: MoreThan(query.cursor) } : {}) },
      order: { id: 'ASC' },
      take: limit + 1,
    });
    const items = rows.slice(0, limit).map(memberView);
    return rows.length > limit ? { items, next: items[items.length - 1].id } : { items };
  }

  async get(id: string): Promise<MemberView> {
    const member = await this.dataSource.getRepository(MemberEntity).findOneBy({ id });
    if (!member) throw new Problem('MEMBER_NOT_FOUND', `no member ${id}`);
    return memberView(member);
  }

  /** Seeding (the platform administrator, demo members): creates or refreshes keys, never fails on existing. */
  async ensure(id: string, name: string, kind: MemberKind, jwks: Jwks): Promise<void> {
    checkedJwks(jwks);
    await this.dataSource.transaction(async (em) => {
      const changed: unknown[] = await em.query(
        `INSERT INTO member (id, name, kind, jwks) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET jwks = excluded.jwks, updated_at = now() WHERE member.jwks IS DISTINCT FROM excluded.jwks
         RETURNING id`,
        [id, name, kind, JSON.stringify(jwks)],
      );
      // Configuration (the admin key) and seeding change keys too: recorded, as any key change.
      if (changed.length > 0)
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
}

function checkedJwks(input: unknown): Jwks {
  jwksToKeyObjects(input); // throws VALIDATION_FAILED naming the bad key
  return input as Jwks;
}

function memberView(m: MemberEntity): MemberView {
  return { id: m.id, name: m.name, kind: m.kind, jwks: m.jwks, createdAt: m.createdAt.toISOString(), updatedAt: m.updatedAt.toISOString() };
}
