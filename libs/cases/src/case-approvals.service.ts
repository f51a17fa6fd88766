import { randomUUID } from 'node:crypto';
import { AuditLog, changeBy, refuseAudited } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { maskIdNumber } from '@datarun/identity';
import { exactTimeSql, parseTimeIdCursor, timeIdCursor } from '@datarun/db';
import { Problem } from '@datarun/problems';
import type { MatterApproval } from '@datarun/registry';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CaseApprovalEntity, type ApprovalState } from './case-approval.entity.js';
import { CaseEntity, type CaseParty, type CaseState } from './case.entity.js';

/** An approval task as its case shows it. */
export interface ApprovalView {
  id: string;
  /** The approving department. */
  by: string;
  state: ApprovalState;
  dueAt: string;
  decidedAt?: string;
  reason?: string;
  /** Pending past its due time, or decided after it (承诺时限 missed). */
  overdue: boolean;
}

/** An approval task as its department's queue shows it: what the case is and whose it is. */
export interface ApprovalTaskView extends ApprovalView {
  caseId: string;
  matter: string;
  caseState: CaseState;
  /** The hall that opened the case. */
  consumer: string;
  /** The parties' names, roles and masked ID numbers: enough to know whose case it is. */
  parties: Array<{ name: string; role: string; idNumberMasked: string }>;
  openedAt: string;
  decidedBy?: string;
}

export interface ApprovalQuery {
  readonly state?: string;
  readonly cursor?: string;
  readonly limit?: number;
}

export const APPROVAL_PAGE = { default: 50, max: 500 } as const;
const STATES: readonly ApprovalState[] = ['pending', 'approved', 'rejected'];

interface TaskRow {
  id: string;
  case_id: string;
  approver_id: string;
  state: ApprovalState;
  due_at: Date;
  /** due_at to the microsecond, for the paging cursor. */
  due_exact: string;
  decided_at: Date | null;
  decided_by: string | null;
  reason: string | null;
  matter_code: string;
  case_state: CaseState;
  consumer_id: string;
  parties: CaseParty[];
  created_at: Date;
}

/**
 * 并联审批: a matter's approving departments decide a case in parallel. The tasks open with the
 * case (all at once, each due its matter's time limit later); the case reads `approving` until
 * every task is approved, then `open` (and may complete); one rejection makes it `rejected`, with
 * the department's reason. Each decision is audited with its task as the purpose.
 */
@Injectable()
export class CaseApprovals {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  /** The matter's tasks for a case being opened, in the opening's transaction. */
  async openFor(em: EntityManager, caseId: string, approvals: readonly MatterApproval[], openedAt: Date): Promise<void> {
    if (approvals.length === 0) return;
    await em.getRepository(CaseApprovalEntity).insert(
      approvals.map((a) => ({
        id: randomUUID(),
        caseId,
        approverId: a.by,
        state: 'pending' as const,
        dueAt: new Date(openedAt.getTime() + a.timeLimitHours * 3600_000),
      })),
    );
  }

  /** A case's tasks, in the order the matter names its departments' due times. */
  async ofCase(caseId: string, em: EntityManager = this.dataSource.manager): Promise<ApprovalView[]> {
    const rows = await em.getRepository(CaseApprovalEntity).find({ where: { caseId }, order: { dueAt: 'ASC', approverId: 'ASC' } });
    const now = Date.now();
    return rows.map((r) => approvalView(r.id, r.approverId, r.state, r.dueAt, r.decidedAt, r.reason, now));
  }

  /**
   * The caller's tasks, oldest due first, a page at a time. A pending task of a case that is no
   * longer approving (another department rejected it, or the hall withdrew it) needs nothing and
   * is left out.
   */
  async queue(caller: Caller, query: ApprovalQuery): Promise<{ items: ApprovalTaskView[]; next?: string }> {
    requireRole(caller, 'department');
    if (query.state !== undefined && !STATES.includes(query.state as ApprovalState)) {
      throw new Problem('VALIDATION_FAILED', `state must be one of ${STATES.join(', ')}`);
    }
    const limit = query.limit ?? APPROVAL_PAGE.default;
    if (!Number.isInteger(limit) || limit < 1 || limit > APPROVAL_PAGE.max) {
      throw new Problem('VALIDATION_FAILED', `limit must be a whole number from 1 to ${APPROVAL_PAGE.max}`);
    }
    const after = query.cursor === undefined ? undefined : parseTimeIdCursor(query.cursor);
    const rows = await this.dataSource.query<TaskRow[]>(
      `${TASK_SELECT}
        WHERE a.approver_id = $1 AND a.state = ANY($2::text[])
          AND NOT (a.state = 'pending' AND c.state <> 'approving')
          AND ($3::timestamptz IS NULL OR (a.due_at, a.id) > ($3::timestamptz, $4::uuid))
        ORDER BY a.due_at, a.id LIMIT $5`,
      [caller.memberId, query.state ? [query.state] : STATES, after?.at ?? null, after?.id ?? null, limit + 1],
    );
    const now = Date.now();
    const items = rows.slice(0, limit).map((r) => taskView(r, now));
    return rows.length > limit ? { items, next: timeIdCursor(rows[limit - 1].due_exact, rows[limit - 1].id) } : { items };
  }

  /**
   * The department's decision on its task (a reason is required to reject). Deciding again the
   * same way changes nothing and answers the same; the other way, or on a case that is no longer
   * approving, is STATE_CONFLICT. Another department's task, or none, is APPROVAL_NOT_FOUND, the
   * same answer either way, recorded as a denied attempt.
   */
  async decide(caller: Caller, id: string, decision: 'approved' | 'rejected', reason?: string): Promise<ApprovalTaskView> {
    requireRole(caller, 'department');
    const why = reason?.trim() || undefined;
    if (decision === 'rejected' && !why) throw new Problem('VALIDATION_FAILED', 'a rejection needs a reason the hall can tell the applicant');
    const action = decision === 'approved' ? 'approval.approved' : 'approval.rejected';
    const found = await this.dataSource.transaction(async (em) => {
      const task = await em.getRepository(CaseApprovalEntity).findOne({ where: { id, approverId: caller.memberId }, lock: { mode: 'pessimistic_write' } });
      if (!task) return undefined;
      if (task.state === decision) return task;
      if (task.state !== 'pending') throw new Problem('STATE_CONFLICT', `the task is already ${task.state}`);
      // Decisions on one case queue on its row: the last approval, or a rejection, moves it.
      const theCase = await em.getRepository(CaseEntity).findOne({ where: { id: task.caseId }, lock: { mode: 'pessimistic_write' } });
      if (theCase!.state !== 'approving') throw new Problem('STATE_CONFLICT', `case ${task.caseId} is ${theCase!.state}; its approvals are closed`);
      const decidedAt = new Date();
      await em.getRepository(CaseApprovalEntity).update({ id }, { state: decision, decidedAt, decidedBy: caller.actor, reason: why ?? null });
      if (decision === 'rejected') {
        await em
          .getRepository(CaseEntity)
          .update({ id: task.caseId }, { state: 'rejected', closedAt: decidedAt, rejectionReason: `${caller.memberId}: ${why}` });
      } else if (!(await em.getRepository(CaseApprovalEntity).existsBy({ caseId: task.caseId, state: 'pending' }))) {
        await em.getRepository(CaseEntity).update({ id: task.caseId }, { state: 'open' });
      }
      await this.audit.appendWithin(
        em,
        changeBy(caller, action, `approval:${id}`, { caseId: task.caseId, purpose: `approval:${id}`, ...(why ? { reason: why } : {}) }),
      );
      return task;
    });
    if (!found) {
      return refuseAudited(this.audit, { caller, action, object: `approval:${id}`, scope: 'any' }, new Problem('APPROVAL_NOT_FOUND', `no approval task ${id}`));
    }
    return this.task(caller, id);
  }

  private async task(caller: Caller, id: string): Promise<ApprovalTaskView> {
    const [row] = await this.dataSource.query<TaskRow[]>(`${TASK_SELECT} WHERE a.id = $1 AND a.approver_id = $2`, [id, caller.memberId]);
    return taskView(row, Date.now());
  }
}

const TASK_SELECT = `SELECT a.id, a.case_id, a.approver_id, a.state, a.due_at, ${exactTimeSql('a.due_at')} AS due_exact, a.decided_at, a.decided_by, a.reason,
         c.matter_code, c.state AS case_state, c.consumer_id, c.parties, c.created_at
    FROM case_approval a JOIN service_case c ON c.id = a.case_id`;

function approvalView(id: string, by: string, state: ApprovalState, dueAt: Date, decidedAt: Date | null, reason: string | null, now: number): ApprovalView {
  return {
    id,
    by,
    state,
    dueAt: dueAt.toISOString(),
    ...(decidedAt ? { decidedAt: decidedAt.toISOString() } : {}),
    ...(reason ? { reason } : {}),
    overdue: (decidedAt?.getTime() ?? now) > dueAt.getTime(),
  };
}

function taskView(r: TaskRow, now: number): ApprovalTaskView {
  return {
    ...approvalView(r.id, r.approver_id, r.state, r.due_at, r.decided_at, r.reason, now),
    caseId: r.case_id,
    matter: r.matter_code,
    caseState: r.case_state,
    consumer: r.consumer_id,
    parties: r.parties.map((p) => ({ name: p.name, role: p.role, idNumberMasked: maskIdNumber(p.idNumber) })),
    openedAt: r.created_at.toISOString(),
    ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
  };
}
