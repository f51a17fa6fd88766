import { Problem, type ProblemCode } from '@datarun/problems';
import type { AuditEventInput, AuditLog } from './audit-log.js';

/** Refusals of who is asking rather than of what was asked: always worth a record. */
export const AUTHORITY_REFUSALS: ReadonlySet<ProblemCode> = new Set<ProblemCode>(['ROLE_FORBIDDEN', 'NOT_OWNER']);

/** Which refusals of a use case are recorded: only those of authority, or every 4xx refusal. */
export type RefusalScope = 'authority' | 'any';

/** What a refused request was about: who asked, what they tried (the action the change would have recorded) and on what. */
export interface RefusalSubject {
  readonly caller: { readonly memberId: string; readonly actor: string };
  readonly action: string;
  /** e.g. `grant:<id>`; only identifiers the use case has checked, never text from the refused body. */
  readonly object?: string;
  readonly scope: RefusalScope;
  readonly sourceId?: string;
  /** A case the refused request named (a well-formed id). */
  readonly caseId?: string;
}

/**
 * The audit event of a refusal: who asked, what about, and the refusal's code as the reason.
 * Never the refused body (keys, schemas, names, notes): a refusal is evidence of an attempt, and
 * the attempt's content may be the very thing that had no right to be stored.
 */
export function refusalBy(about: RefusalSubject, code: ProblemCode): AuditEventInput {
  return {
    memberId: about.caller.memberId,
    actor: about.caller.actor,
    action: about.action,
    decision: 'denied',
    reason: code,
    ...(about.object ? { object: about.object } : {}),
    ...(about.sourceId ? { sourceId: about.sourceId } : {}),
    ...(about.caseId ? { caseId: about.caseId } : {}),
  };
}

function recorded(problem: Problem, scope: RefusalScope): boolean {
  if (AUTHORITY_REFUSALS.has(problem.code)) return true;
  return scope === 'any' && problem.status >= 400 && problem.status < 500;
}

/**
 * Runs a use case and records its refusal, if it is one its scope covers, as one denied audit
 * event; the refusal then carries that record's id (`auditId`). The record is appended after
 * `work` has settled, so a transaction the refusal aborted has rolled back first and the record
 * is the only thing the refusal stores. When the record cannot be written the caller gets
 * AUDIT_UNAVAILABLE instead: fail closed, as for every audited answer.
 */
export async function auditRefusals<T>(audit: AuditLog, about: RefusalSubject, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof Problem) || !recorded(error, about.scope)) throw error;
    return refuseAudited(audit, about, error);
  }
}

/**
 * Records `refusal` as one denied audit event (refusalBy) and throws it carrying that record's id
 * (`auditId`): for a refusal the caller decided itself, outside a use case auditRefusals wraps.
 */
export async function refuseAudited(audit: AuditLog, about: RefusalSubject, refusal: Problem): Promise<never> {
  const auditId = await audit.append(refusalBy(about, refusal.code));
  throw new Problem(refusal.code, refusal.detail, { ...refusal.extensions, auditId });
}
