import { isDeepStrictEqual } from 'node:util';
import { AuditLog, auditRefusals, changeBy } from '@datarun/audit';
import { ADMIN_MEMBER_ID, type Caller, requireMember, requireRole } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, In } from 'typeorm';
import { RecipientDirectory } from '../recipients/recipient-directory.js';
import { SourceEntity } from '../sources/source.entity.js';
import { type DeferrableMaterial, type MatterApproval, MatterEntity, type MatterNotification } from './matter.entity.js';
import { MemberEntity } from '../members/member.entity.js';
import { checkRecipients, type NotificationInput, notificationsOf } from './notifications.js';

/** A material a matter collects: its type, or its type marked deferrable (容缺受理) with the days it may follow in. */
export type MaterialDeclaration = string | { readonly type: string; readonly deferrable?: boolean; readonly dueDays?: number };

/** How long a deferrable material may follow when its matter says nothing (docs/api.md). */
export const DEFAULT_DEFER_DAYS = 7;

export interface RegisterMatterCommand {
  readonly code: string;
  readonly title: string;
  readonly evidence: readonly string[];
  readonly materials: readonly MaterialDeclaration[];
  readonly onComplete: readonly NotificationInput[];
  readonly approvals?: readonly MatterApproval[];
}

export interface MatterView {
  code: string;
  title: string;
  evidence: string[];
  materials: string[];
  /** The materials a case may open without (容缺受理), each with the days it may follow in. */
  deferrable: DeferrableMaterial[];
  onComplete: MatterNotification[];
  approvals: MatterApproval[];
  createdAt: string;
}

export const MATTER_CODE = /^[a-z][a-z0-9-]{1,63}$/;

@Injectable()
export class MattersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    private readonly recipients: RecipientDirectory,
  ) {}

  /** A registration by a member that is not an admin is audited as refused (auditRefusals). */
  register(caller: Caller, cmd: RegisterMatterCommand): Promise<MatterView> {
    const object = MATTER_CODE.test(cmd.code) ? `matter:${cmd.code}` : 'matter';
    return auditRefusals(this.audit, { caller, action: 'matter.registered', object, scope: 'authority' }, () => this.registerMatter(caller, cmd));
  }

  private async registerMatter(caller: Caller, cmd: RegisterMatterCommand): Promise<MatterView> {
    requireRole(caller, 'admin');
    if (!MATTER_CODE.test(cmd.code)) throw new Problem('VALIDATION_FAILED', `code must match ${MATTER_CODE.source}`);
    const evidence = [...new Set(cmd.evidence)];
    const found = await this.dataSource.getRepository(SourceEntity).findBy({ id: In(evidence) });
    const missing = evidence.filter((s) => !found.some((f) => f.id === s));
    if (missing.length) throw new Problem('SOURCE_NOT_FOUND', `no source ${missing.join(', ')}`);
    const { types, deferrable } = materialsOf(cmd.materials);
    const onComplete = notificationsOf(cmd.onComplete, types);
    checkRecipients(onComplete, await Promise.all(onComplete.map((n) => this.recipients.resolve(n.notify))));
    const approvals = await this.approversChecked(cmd.approvals ?? []);

    await this.dataSource.transaction(async (em) => {
      if (await em.getRepository(MatterEntity).existsBy({ code: cmd.code })) throw new Problem('ALREADY_EXISTS', `matter ${cmd.code} is already registered`);
      await em.getRepository(MatterEntity).insert({ code: cmd.code, title: cmd.title, evidence, materials: types, deferrable, onComplete, approvals });
      await this.audit.appendWithin(em, changeBy(caller, 'matter.registered', `matter:${cmd.code}`));
    });
    return this.get(cmd.code);
  }

  /**
   * Seeding (the demo matters): registers the matter, or, when it exists with other
   * notifications than the seed's (a demo database from before recipients were members), replaces
   * its `onComplete` with the seed's, checked as a registration's and recorded as configuration.
   * Nothing else of an existing matter changes. Returns what it did.
   */
  async ensure(cmd: RegisterMatterCommand): Promise<'registered' | 'updated' | 'unchanged'> {
    const existing = await this.dataSource.getRepository(MatterEntity).findOneBy({ code: cmd.code });
    if (!existing) {
      await this.register({ memberId: ADMIN_MEMBER_ID, role: 'admin', actor: 'seed' }, cmd);
      return 'registered';
    }
    const onComplete = notificationsOf(cmd.onComplete, existing.materials);
    const approvals = [...(cmd.approvals ?? [])];
    // Compared as values: jsonb keeps an object's keys in an order of its own.
    const current = view(existing);
    if (isDeepStrictEqual(current.onComplete, onComplete) && isDeepStrictEqual(current.approvals, approvals)) return 'unchanged';
    checkRecipients(onComplete, await Promise.all(onComplete.map((n) => this.recipients.resolve(n.notify))));
    await this.approversChecked(approvals);
    await this.dataSource.transaction(async (em) => {
      await em.getRepository(MatterEntity).update({ code: cmd.code }, { onComplete, approvals });
      await this.audit.appendWithin(em, {
        memberId: 'datarun',
        actor: 'configuration',
        action: 'matter.notifications-configured',
        decision: 'allowed',
        object: `matter:${cmd.code}`,
      });
    });
    return 'updated';
  }

  /** A matter's approvals as stored: each by a registered department, each department once. */
  private async approversChecked(approvals: readonly MatterApproval[]): Promise<MatterApproval[]> {
    const by = approvals.map((a) => a.by);
    if (new Set(by).size !== by.length) throw new Problem('VALIDATION_FAILED', 'each department approves a matter once');
    if (by.length === 0) return [];
    const departments = await this.dataSource.getRepository(MemberEntity).findBy({ id: In(by), kind: 'department' });
    const unknown = by.filter((id) => !departments.some((d) => d.id === id));
    if (unknown.length) throw new Problem('VALIDATION_FAILED', `approvals name no registered department: ${unknown.join(', ')}`);
    return approvals.map((a) => ({ by: a.by, timeLimitHours: a.timeLimitHours }));
  }

  /** `em`: inside the caller's transaction (a case's completion reads the matter's notifications in its own). */
  async get(code: string, em: EntityManager = this.dataSource.manager): Promise<MatterView> {
    const m = await em.getRepository(MatterEntity).findOneBy({ code });
    if (!m) throw new Problem('MATTER_NOT_FOUND', `no matter ${code}`);
    return view(m);
  }

  /** The sources a matter's evidence bundle reads; none for an unknown matter. */
  async evidenceOf(code: string): Promise<string[]> {
    const m = await this.dataSource.getRepository(MatterEntity).findOne({ select: { evidence: true }, where: { code } });
    return m?.evidence ?? [];
  }

  /** One matter, for members only. */
  async describe(caller: Caller, code: string): Promise<MatterView> {
    requireMember(caller);
    return this.get(code);
  }

  /** Every matter, for members only. */
  async list(caller: Caller): Promise<MatterView[]> {
    requireMember(caller);
    return (await this.dataSource.getRepository(MatterEntity).find({ order: { code: 'ASC' } })).map(view);
  }
}

/** The types a matter collects, each once, and those of them a case may open without. */
function materialsOf(declared: readonly MaterialDeclaration[]): { types: string[]; deferrable: DeferrableMaterial[] } {
  const types = [...new Set(declared.map((m) => (typeof m === 'string' ? m : m.type)))];
  const deferrable: DeferrableMaterial[] = [];
  for (const m of declared) {
    if (typeof m === 'string') continue;
    if (!m.deferrable) {
      if (m.dueDays !== undefined) throw new Problem('VALIDATION_FAILED', `material ${m.type}: dueDays is for a deferrable material only`);
      continue;
    }
    if (deferrable.some((d) => d.type === m.type)) throw new Problem('VALIDATION_FAILED', `material ${m.type} is marked deferrable twice`);
    deferrable.push({ type: m.type, dueDays: m.dueDays ?? DEFAULT_DEFER_DAYS });
  }
  return { types, deferrable };
}

function view(m: MatterEntity): MatterView {
  return {
    code: m.code,
    title: m.title,
    evidence: m.evidence,
    materials: m.materials,
    deferrable: (m.deferrable ?? []).map((d) => ({ type: d.type, dueDays: d.dueDays })),
    onComplete: m.onComplete.map(stored),
    approvals: (m.approvals ?? []).map((a) => ({ by: a.by, timeLimitHours: a.timeLimitHours })),
    createdAt: m.createdAt.toISOString(),
  };
}

/** An entry as stored; one stored before entries named fields names none. */
function stored(n: MatterNotification): MatterNotification {
  return { ...n, fields: n.fields ?? [] };
}
