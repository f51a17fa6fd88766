import { randomUUID } from 'node:crypto';
import { AuditLog, changeBy, refuseAudited, SubjectPseudonyms } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { DATARUN_CONFIG, type DatarunConfig } from '@datarun/config';
import { checkIdNumber } from '@datarun/identity';
import { Problem } from '@datarun/problems';
import { type MatterApproval, type MatterNotification, MattersService, RecipientDirectory, RegistryNames } from '@datarun/registry';
import {
  type CaseTransfer,
  CaseTransfers,
  OutboxWriter,
  planRequests,
  type RequestKind,
  type RoutedNotification,
  type TransferState,
} from '@datarun/transfers';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type ApprovalView, CaseApprovals } from './case-approvals.service.js';
import { CaseEntity, type CaseMaterial, type CaseParty, type CaseState, type DeferredMaterial, deferredOf, isActive, partyHashesOf } from './case.entity.js';

export interface OpenCaseCommand {
  readonly matter: string;
  readonly parties: readonly CaseParty[];
  readonly property?: { unitNumber: string; address: string };
  readonly utilityAccounts?: Readonly<Record<string, string>>;
  readonly materials: readonly CaseMaterial[];
}

export interface CaseView {
  id: string;
  matter: string;
  state: CaseState;
  parties: CaseParty[];
  property?: { unitNumber: string; address: string };
  utilityAccounts?: Record<string, string>;
  materials: Array<CaseMaterial & { uploaded: boolean }>;
  /** 容缺受理: the materials the case opened without, each due by `dueAt` (overdue: not uploaded by then). */
  deferred: Array<DeferredMaterial & { uploaded: boolean; overdue: boolean }>;
  /** 并联审批: the matter's approval tasks, decided in parallel (none when the matter names no approvals). */
  approvals: ApprovalView[];
  /** Why a rejected case was rejected: the department and its reason. */
  rejectionReason?: string;
  transfers: TransferView[];
  /** e.g. "6 of 6 completed": the clerk's one-line answer to "did every unit the matter notifies act?" */
  progress: { total: number; completed: number; rejected: number; followUp: number; summary: string };
  openedBy: string;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

export type { TransferState };

/** A request in one of these states needs nothing more from its recipient. */
const FINAL_STATES: ReadonlySet<TransferState> = new Set(['completed', 'rejected', 'superseded']);

/** The member a request goes to, with its registered name (the name falls back to the id when the member is not registered). */
export interface TransferRecipient {
  id: string;
  name: string;
}

export interface TransferView {
  /** The utility kind of a kind's transfer or discount; null for a benefit. */
  utility: string | null;
  /**
   * The member the request went to (resolved when the case completed), with its registered name;
   * null only for a request written before recipients were registered.
   */
  recipient: TransferRecipient | null;
  request: RequestKind;
  /** The benefit's code, for a benefit request. */
  benefit?: string;
  requestId: string;
  state: TransferState;
  updatedAt: string;
  publishedAt?: string;
  reference?: string;
  reason?: string;
  /** No final status after TRANSFER_FOLLOW_UP_SECONDS: someone should call the recipient. */
  followUp: boolean;
}

@Injectable()
export class CasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly matters: MattersService,
    private readonly outbox: OutboxWriter,
    private readonly transfers: CaseTransfers,
    private readonly recipients: RecipientDirectory,
    private readonly names: RegistryNames,
    private readonly pseudonyms: SubjectPseudonyms,
    private readonly audit: AuditLog,
    private readonly approvals: CaseApprovals,
    @Inject(DATARUN_CONFIG) private readonly config: DatarunConfig,
  ) {}

  /** Opens a case for a matter; every party's ID number is checked (GB 11643) before anything is stored. */
  async open(caller: Caller, cmd: OpenCaseCommand): Promise<CaseView> {
    requireRole(caller, 'consumer');
    const parties = cmd.parties.map((p) => ({ idNumber: checkIdNumber(p.idNumber), name: p.name, role: p.role }));
    const matter = await this.matters.get(cmd.matter);
    const unknown = cmd.materials.map((m) => m.type).filter((t) => !matter.materials.includes(t));
    if (unknown.length) throw new Problem('VALIDATION_FAILED', `matter ${matter.code} does not collect material ${[...new Set(unknown)].join(', ')}`);
    const types = cmd.materials.map((m) => m.type);
    if (new Set(types).size !== types.length) throw new Problem('VALIDATION_FAILED', 'each material type may be declared once');
    const id = randomUUID();
    const approving = matter.approvals.length > 0;
    const openedAt = new Date();
    // 容缺受理: each deferrable material the case does not declare now follows within its days.
    const deferred: DeferredMaterial[] = matter.deferrable
      .filter((d) => !types.includes(d.type))
      .map((d) => ({ type: d.type, dueAt: new Date(openedAt.getTime() + d.dueDays * 86_400_000).toISOString() }));
    await this.dataSource.transaction(async (em) => {
      await em.getRepository(CaseEntity).insert({
        id,
        consumerId: caller.memberId,
        matterCode: matter.code,
        // Every approval task opens with the case, at once (并联审批).
        state: approving ? 'approving' : 'open',
        parties,
        partyHashes: partyHashesOf(parties, (idNumber) => this.pseudonyms.of(idNumber)),
        property: cmd.property ?? null,
        utilityAccounts: cmd.utilityAccounts ? { ...cmd.utilityAccounts } : null,
        materials: cmd.materials.map((m) => ({ ...m, sha256: m.sha256.toLowerCase() })),
        deferred,
        openedBy: caller.actor,
        createdAt: openedAt,
      });
      await this.approvals.openFor(em, id, matter.approvals, openedAt);
      await this.audit.appendWithin(
        em,
        changeBy(caller, 'case.opened', `case:${id}`, {
          caseId: id,
          purpose: matter.code,
          ...(approving || deferred.length ? { reason: openingNote(matter.approvals, deferred) } : {}),
        }),
      );
    });
    return this.get(caller, id);
  }

  /** Another member's case is CASE_NOT_FOUND, exactly like a case that does not exist (and audited). */
  async get(caller: Caller, id: string): Promise<CaseView> {
    const found = await this.owned(caller, id, 'case.read');
    const [transfers, uploaded, approvals] = await Promise.all([
      this.transfers.ofCase(id),
      this.dataSource.query<Array<{ type: string }>>('SELECT type FROM case_material WHERE case_id = $1', [id]),
      this.approvals.ofCase(id),
    ]);
    return view(found, transfers, await this.recipientsOf(transfers), new Set(uploaded.map((u) => u.type)), approvals, this.config.transfers.followUpSeconds);
  }

  /** Each recipient member with its registered name: one names query per case, not one per request. */
  private async recipientsOf(transfers: readonly CaseTransfer[]): Promise<ReadonlyMap<string, TransferRecipient>> {
    const members = [...new Set(transfers.flatMap((t) => (t.recipient === null ? [] : [t.recipient])))];
    if (members.length === 0) return new Map();
    const names = await this.names.membersNamed(members);
    return new Map(members.map((id) => [id, { id, name: names.get(id) ?? id }]));
  }

  /**
   * The matter's notifications with their recipients, as the registry says now (in the completion's
   * transaction): a utility kind resolves to the member registered for it. A recipient that is gone
   * or suspended cannot take the request, so the case cannot complete until someone fixes that.
   */
  private async routed(notifications: readonly MatterNotification[], em: EntityManager): Promise<RoutedNotification[]> {
    return Promise.all(
      notifications.map(async (n) => {
        const recipient = await this.recipients.resolve(n.notify, em);
        if (!recipient) throw new Problem('RECIPIENT_NOT_FOUND', `the matter notifies ${n.notify}, which is no registered recipient now; ask an administrator`);
        if (recipient.state !== 'active')
          throw new Problem(
            'STATE_CONFLICT',
            `the matter notifies ${recipient.memberId}, which is ${recipient.state}; the case cannot complete until it is reinstated`,
          );
        return {
          recipient: { memberId: recipient.memberId, utilityKind: recipient.utilityKind ?? null },
          request: n.request,
          ...(n.benefit ? { benefit: n.benefit } : {}),
          fields: n.fields ?? [],
          materials: n.materials,
          ...(n.holderRole ? { holderRole: n.holderRole } : {}),
          ...(n.optional ? { optional: true } : {}),
        };
      }),
    );
  }

  /**
   * Completes a case: in one transaction the state moves to completed and the outbox receives one
   * request per notification of the matter (the relay publishes them). Completing a completed case
   * changes nothing and answers the same. Refused, with nothing stored, when the case lacks what a
   * recipient needs (account numbers, the property, a routed material not uploaded yet).
   */
  async complete(caller: Caller, id: string): Promise<CaseView> {
    requireRole(caller, 'consumer');
    await this.dataSource.transaction(async (em) => {
      const found = await this.lockOwned(em, caller, id, 'case.completed');
      if (found.state === 'completed') return;
      if (found.state === 'approving') {
        const pending = (await this.approvals.ofCase(id, em)).filter((a) => a.state === 'pending').map((a) => a.by);
        throw new Problem('APPROVAL_PENDING', `case ${id} waits for the approval of ${pending.join(', ')}`);
      }
      if (found.state !== 'open') throw new Problem('STATE_CONFLICT', `case ${id} is ${found.state}; only an open case can be completed`);
      const matter = await this.matters.get(found.matterCode, em);
      const uploaded: Array<{ id: string; type: string; sha256: string }> = await em.query('SELECT id, type, sha256 FROM case_material WHERE case_id = $1', [
        id,
      ]);
      const missing = found.deferred.filter((d) => !uploaded.some((u) => u.type === d.type)).map((d) => d.type);
      if (missing.length) throw new Problem('MATERIAL_MISSING', `case ${id} opened without ${missing.join(', ')}, which must be uploaded before it completes`);
      const completedAt = new Date();
      const ids = { newId: randomUUID, pseudonymOf: (idNumber: string) => this.pseudonyms.of(idNumber) };
      const planned = planRequests(found, await this.routed(matter.onComplete, em), uploaded, completedAt, ids);
      await em.getRepository(CaseEntity).update({ id }, { state: 'completed', closedAt: completedAt });
      await this.outbox.enqueue(em, id, planned);
      await this.audit.appendWithin(
        em,
        changeBy(caller, 'case.completed', `case:${id}`, {
          caseId: id,
          purpose: found.matterCode,
          reason: planned.length ? `requests: ${planned.map((p) => `${p.recipient}/${p.benefit ?? p.request}`).join(', ')}` : 'no notifications',
        }),
      );
    });
    return this.get(caller, id);
  }

  /**
   * Sends one request again under the same request id (the recipient's inbox answers a copy it
   * already applied with its recorded status, so a resend is always safe).
   */
  async resend(caller: Caller, id: string, requestId: string): Promise<CaseView> {
    requireRole(caller, 'consumer');
    await this.dataSource.transaction(async (em) => {
      const found = await this.lockOwned(em, caller, id, 'transfer.resent');
      const recipient = await this.outbox.resend(em, id, requestId);
      if (recipient === undefined) throw new Problem('TRANSFER_NOT_FOUND', `case ${id} has no request ${requestId}`);
      await this.audit.appendWithin(
        em,
        changeBy(caller, 'transfer.resent', `transfer:${requestId}`, { caseId: id, purpose: found.matterCode, reason: recipient }),
      );
    });
    return this.get(caller, id);
  }

  /** Closes an open case without completing it; no lookups under it afterwards. */
  async withdraw(caller: Caller, id: string): Promise<CaseView> {
    requireRole(caller, 'consumer');
    await this.dataSource.transaction(async (em) => {
      const found = await this.lockOwned(em, caller, id, 'case.withdrawn');
      if (!isActive(found.state)) throw new Problem('STATE_CONFLICT', `case ${id} is ${found.state}; only an open case can be withdrawn`);
      await em.getRepository(CaseEntity).update({ id }, { state: 'withdrawn', closedAt: new Date() });
      await this.audit.appendWithin(em, changeBy(caller, 'case.withdrawn', `case:${id}`, { caseId: id, purpose: found.matterCode }));
    });
    return this.get(caller, id);
  }

  /**
   * The caller's case, row-locked for a change; another member's is CASE_NOT_FOUND, recorded as a
   * denied `action` on that case (caseNotFound).
   */
  async lockOwned(em: EntityManager, caller: Caller, id: string, action: string): Promise<CaseEntity> {
    const found = await em.getRepository(CaseEntity).findOne({ where: { id, consumerId: caller.memberId }, lock: { mode: 'pessimistic_write' } });
    return found ?? this.caseNotFound(caller, id, action);
  }

  private async owned(caller: Caller, id: string, action: string): Promise<CaseEntity> {
    const found = await this.dataSource.getRepository(CaseEntity).findOneBy({ id, consumerId: caller.memberId });
    return found ?? this.caseNotFound(caller, id, action);
  }

  /**
   * A case the caller does not hold (another member's, with its parties' names and ID numbers, or
   * none): the refusal is one denied audit record naming the case id, so an auditor sees a member
   * probing other halls' cases. It is appended on its own, outside the caller's transaction, which
   * the refusal rolls back. The answer is the same whether the case exists or not.
   */
  private caseNotFound(caller: Caller, id: string, action: string): Promise<never> {
    return refuseAudited(this.audit, { caller, action, object: `case:${id}`, caseId: id, scope: 'any' }, new Problem('CASE_NOT_FOUND', `no case ${id}`));
  }
}

function view(
  c: CaseEntity,
  transfers: readonly CaseTransfer[],
  recipients: ReadonlyMap<string, TransferRecipient>,
  uploaded: ReadonlySet<string>,
  approvals: ApprovalView[],
  followUpSeconds: number,
): CaseView {
  const overdueBefore = Date.now() - followUpSeconds * 1000;
  const items: TransferView[] = transfers.map((t) => ({
    utility: t.utility,
    recipient: t.recipient === null ? null : (recipients.get(t.recipient) ?? null),
    request: t.request,
    ...(t.benefit ? { benefit: t.benefit } : {}),
    requestId: t.requestId,
    state: t.state,
    updatedAt: t.updatedAt.toISOString(),
    ...(t.publishedAt ? { publishedAt: t.publishedAt.toISOString() } : {}),
    ...(t.reference ? { reference: t.reference } : {}),
    ...(t.reason ? { reason: t.reason } : {}),
    followUp: !FINAL_STATES.has(t.state) && t.updatedAt.getTime() < overdueBefore,
  }));
  const completed = items.filter((t) => t.state === 'completed').length;
  const rejected = items.filter((t) => t.state === 'rejected').length;
  const followUp = items.filter((t) => t.followUp).length;
  const summary =
    items.length === 0
      ? 'no requests'
      : `${completed} of ${items.length} completed${rejected ? `, ${rejected} rejected` : ''}${followUp ? `, ${followUp} need follow-up` : ''}`;
  return {
    id: c.id,
    matter: c.matterCode,
    state: c.state,
    parties: c.parties,
    ...(c.property ? { property: c.property } : {}),
    ...(c.utilityAccounts ? { utilityAccounts: c.utilityAccounts } : {}),
    materials: c.materials.map((m) => ({ ...m, uploaded: uploaded.has(m.type) })),
    deferred: deferredOf(c.deferred, uploaded),
    approvals,
    ...(c.rejectionReason ? { rejectionReason: c.rejectionReason } : {}),
    transfers: items,
    progress: { total: items.length, completed, rejected, followUp, summary },
    openedBy: c.openedBy,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    ...(c.closedAt ? { closedAt: c.closedAt.toISOString() } : {}),
  };
}

/** The opening's audit reason: the approving departments and the deferred materials. */
function openingNote(approvals: readonly MatterApproval[], deferred: readonly DeferredMaterial[]): string {
  return [
    approvals.length ? `approvals: ${approvals.map((a) => a.by).join(', ')}` : '',
    deferred.length ? `deferred: ${deferred.map((d) => d.type).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
