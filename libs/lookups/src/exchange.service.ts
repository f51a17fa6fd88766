import { performance } from 'node:perf_hooks';
import { decideAccess, type EffectiveGrant, minimiseRecord } from '@datarun/access-policy';
import { type AuditEventInput, AuditLog, auditRefusals, SubjectPseudonyms } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { CaseFacts, type CaseFactsRow } from '@datarun/cases';
import { checkIdNumber, maskIdNumber } from '@datarun/identity';
import { Problem, type ProblemCode } from '@datarun/problems';
import { effectiveGrantOf, MattersService } from '@datarun/registry';
import { type ReplicaRow, SourceAdapters } from '@datarun/sources';
import { Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import { LookupFacts } from './lookup-facts.js';
import { SourceDirectory } from './source-directory.js';

export interface LookupCommand {
  readonly caller: Caller;
  readonly source: string;
  readonly subject: unknown;
  readonly purpose: string;
  readonly caseId: string;
  readonly fields?: readonly string[];
}

export interface VerifyCommand extends Omit<LookupCommand, 'fields'> {
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface Provenance {
  source: string;
  owner: string;
  schemaVersion: number;
  retrievedAt: string;
  asOf?: string;
}

export interface LookupAnswer {
  data: Record<string, unknown>;
  provenance: Provenance;
  auditId: string;
}

export interface BundleItem {
  source: string;
  role: string;
  /** The party's ID number, masked: the caller put it on the case and knows whom it means. */
  subject: string;
  result?: LookupAnswer;
  problem?: { status: number; code: ProblemCode; title: string; detail: string; auditId?: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Refusals of the policy: the caller asked for something it may not have. */
const DENIALS = new Set<ProblemCode>([
  'ID_NUMBER_INVALID',
  'VALIDATION_FAILED',
  'ROLE_FORBIDDEN',
  'GRANT_MISSING',
  'PURPOSE_NOT_GRANTED',
  'FIELD_NOT_GRANTED',
  'SUBJECT_NOT_IN_CASE',
  'CASE_NOT_OPEN',
  'CASE_NOT_FOUND',
  'SOURCE_NOT_FOUND',
  'RECORD_NOT_FOUND',
]);

/**
 * Lookups, verifications and evidence bundles: the data-exchange use cases. Each request, allowed
 * or refused, is audited before its answer leaves; when the audit cannot be written the caller
 * gets AUDIT_UNAVAILABLE and no data.
 */
@Injectable()
export class ExchangeService {
  constructor(
    private readonly cases: CaseFacts,
    private readonly matters: MattersService,
    private readonly sources: SourceDirectory,
    private readonly adapters: SourceAdapters,
    private readonly audit: AuditLog,
    private readonly pseudonyms: SubjectPseudonyms,
    private readonly facts: LookupFacts,
  ) {}

  lookup(cmd: LookupCommand, action = 'lookup'): Promise<LookupAnswer> {
    return this.audited(cmd, action, async (subject, record) => {
      const { source, decision, fetched } = await this.authorisedFetch(cmd, subject, 'read', cmd.fields);
      if (!fetched) throw new Problem('RECORD_NOT_FOUND', `${source.id} has no record of this subject`);
      const data = minimiseRecord(fetched.data, decision.fields, source.classification, subject, decision.unmasked);
      record.fields = Object.keys(data);
      const provenance: Provenance = {
        source: source.id,
        owner: source.owner,
        schemaVersion: fetched.schemaVersion,
        retrievedAt: fetched.retrievedAt.toISOString(),
        ...(fetched.asOf ? { asOf: fetched.asOf.toISOString() } : {}),
      };
      return (auditId: string) => ({ data, provenance, auditId });
    });
  }

  /** 核验: compares claims with the record; only yes or no leaves, never a field. */
  verify(cmd: VerifyCommand): Promise<{ match: boolean; auditId: string }> {
    return this.audited(cmd, 'verify', async (subject, record) => {
      const claimed = Object.keys(cmd.claims);
      if (claimed.length === 0) throw new Problem('VALIDATION_FAILED', 'name at least one claim');
      const { fetched } = await this.authorisedFetch(cmd, subject, 'verify', claimed);
      record.fields = claimed;
      const match = fetched !== null && claimed.every((f) => sameValue(fetched.data[f], cmd.claims[f]));
      return (auditId: string) => ({ match, auditId });
    });
  }

  /**
   * 并联: every evidence source of the case's matter for every party, in parallel, each answered on
   * its own. A refused bundle (not a consumer, another member's case) asked for every party's
   * records at once: it is audited as one denied `bundle`, with the case it named.
   */
  async bundle(caller: Caller, caseId: string): Promise<{ caseId: string; matter: string; items: BundleItem[] }> {
    const about = { caller, action: 'bundle', caseId: UUID.test(caseId) ? caseId : undefined, scope: 'any' } as const;
    const kase = await auditRefusals(this.audit, about, () => {
      requireRole(caller, 'consumer');
      return this.caseOf(caller, caseId);
    });
    const evidence = await this.matters.evidenceOf(kase.matter_code);
    const work = evidence.flatMap((source) => kase.parties.map((party) => ({ source, party })));
    const settled = await Promise.allSettled(
      work.map(({ source, party }) => this.lookup({ caller, source, subject: party.idNumber, purpose: kase.matter_code, caseId }, 'bundle-item')),
    );
    // An audit outage fails the whole bundle: no item may leave unaudited.
    const outage = settled.find((s) => s.status === 'rejected' && s.reason instanceof Problem && s.reason.code === 'AUDIT_UNAVAILABLE');
    if (outage) throw (outage as PromiseRejectedResult).reason;
    const items = settled.map((s, i): BundleItem => {
      const { source, party } = work[i];
      const head = { source, role: party.role, subject: maskIdNumber(party.idNumber) };
      if (s.status === 'fulfilled') return { ...head, result: s.value };
      const p = s.reason instanceof Problem ? s.reason : new Problem('INTERNAL_ERROR', 'this item failed; the correlation id identifies it in the logs');
      const auditId = typeof p.extensions.auditId === 'string' ? p.extensions.auditId : undefined;
      return { ...head, problem: { status: p.status, code: p.code, title: p.title, detail: p.detail, ...(auditId ? { auditId } : {}) } };
    });
    return { caseId, matter: kase.matter_code, items };
  }

  private async authorisedFetch(cmd: LookupCommand, subject: string, mode: 'read' | 'verify', fields?: readonly string[]) {
    requireRole(cmd.caller, 'consumer');
    const source = await this.sources.get(cmd.source);
    const { kase, grants, record } = await this.factsOf(cmd.caller, cmd.caseId, source.id, subject);
    const decision = decideAccess(
      grants,
      { state: kase.state, matter: kase.matter_code, partyIdNumbers: kase.parties.map((p) => p.idNumber) },
      { purpose: cmd.purpose, subject, fields, mode },
    );
    if (!decision.allowed) throw new Problem(decision.code, decision.detail);
    // The department learns on whose behalf and why (the platform token of a federated call).
    const caller = { member: cmd.caller.memberId, actor: cmd.caller.actor, purpose: cmd.purpose, caseId: cmd.caseId };
    const fetched = await this.adapters.fetch(source, subject, { caller, ...(source.mode === 'replica' ? { replicaRow: record } : {}) });
    return { source, decision, fetched };
  }

  /**
   * Runs one exchange and audits it either way. `work` gets the checked subject and a record to
   * fill in (fields returned or compared) and gives back how to build the answer from the audit id.
   */
  private async audited<T>(
    cmd: LookupCommand | VerifyCommand,
    action: string,
    work: (subject: string, record: { fields: string[] }) => Promise<(auditId: string) => T>,
  ): Promise<T> {
    const started = performance.now();
    const event: { -readonly [K in keyof AuditEventInput]: AuditEventInput[K] } = {
      memberId: cmd.caller.memberId,
      actor: cmd.caller.actor,
      action,
      decision: 'allowed',
      sourceId: cmd.source,
      purpose: cmd.purpose,
      caseId: UUID.test(cmd.caseId) ? cmd.caseId : undefined,
    };
    const record = { fields: [] as string[] };
    let answer: (auditId: string) => T;
    try {
      const subject = checkIdNumber(cmd.subject);
      event.subjectHash = this.pseudonyms.of(subject);
      answer = await work(subject, record);
    } catch (error) {
      const problem = error instanceof Problem ? error : undefined;
      const auditId = await this.audit.append({
        ...event,
        decision: problem && DENIALS.has(problem.code) ? 'denied' : 'failed',
        reason: problem?.code ?? 'INTERNAL_ERROR',
        latencyMs: performance.now() - started,
      });
      throw problem ? new Problem(problem.code, problem.detail, { ...problem.extensions, auditId }) : error;
    }
    const auditId = await this.audit.append({ ...event, fields: record.fields, latencyMs: performance.now() - started });
    return answer(auditId);
  }

  /** Another member's case is CASE_NOT_FOUND, as a case that does not exist. */
  private async caseOf(caller: Caller, caseId: string): Promise<CaseFactsRow> {
    if (!UUID.test(caseId)) throw new Problem('CASE_NOT_FOUND', 'no such case');
    const kase = await this.cases.of(caseId, caller.memberId);
    if (!kase) throw new Problem('CASE_NOT_FOUND', `no case ${caseId}`);
    return kase;
  }

  /** The case, the grants that count (only approved, unexpired ones) and a replica's record, read with the other lookups of this turn (LookupFacts). */
  private async factsOf(
    caller: Caller,
    caseId: string,
    sourceId: string,
    subject: string,
  ): Promise<{ kase: CaseFactsRow; grants: EffectiveGrant[]; record: ReplicaRow | null }> {
    if (!UUID.test(caseId)) throw new Problem('CASE_NOT_FOUND', 'no such case');
    const row = await this.facts.of({ caseId, consumer: caller.memberId, source: sourceId, subject });
    if (!row.kase) throw new Problem('CASE_NOT_FOUND', `no case ${caseId}`);
    return { kase: row.kase, grants: row.grants.map(effectiveGrantOf), record: row.record };
  }
}

/** ID numbers compare without regard to the case of their X; everything else exactly. */
function sameValue(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string' && typeof expected === 'string')
    return actual === expected || (actual.toUpperCase() === expected.toUpperCase() && /^\d{17}[\dXx]$/.test(actual));
  return isDeepStrictEqual(actual, expected);
}
