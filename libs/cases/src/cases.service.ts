import { randomUUID } from 'node:crypto';
import { AuditLog, changeBy } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { checkIdNumber } from '@datarun/identity';
import { Problem } from '@datarun/problems';
import { MattersService } from '@datarun/registry';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CaseEntity, type CaseMaterial, type CaseParty, type CaseState } from './case.entity.js';

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
  materials: CaseMaterial[];
  transfers: unknown[];
  openedBy: string;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

@Injectable()
export class CasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly matters: MattersService,
    private readonly audit: AuditLog,
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
    await this.dataSource.transaction(async (em) => {
      await em.getRepository(CaseEntity).insert({
        id,
        consumerId: caller.memberId,
        matterCode: matter.code,
        state: 'open',
        parties,
        property: cmd.property ?? null,
        utilityAccounts: cmd.utilityAccounts ? { ...cmd.utilityAccounts } : null,
        materials: cmd.materials.map((m) => ({ ...m, sha256: m.sha256.toLowerCase() })),
        openedBy: caller.actor,
      });
      await this.audit.appendWithin(em, changeBy(caller, 'case.opened', `case:${id}`, { caseId: id, purpose: matter.code }));
    });
    return this.get(caller, id);
  }

  /** Another member's case is CASE_NOT_FOUND, exactly like a case that does not exist. */
  async get(caller: Caller, id: string): Promise<CaseView> {
    return view(await this.owned(caller, id));
  }

  /** Closes an open case without completing it; no lookups under it afterwards. */
  async withdraw(caller: Caller, id: string): Promise<CaseView> {
    requireRole(caller, 'consumer');
    await this.dataSource.transaction(async (em) => {
      const found = await em.getRepository(CaseEntity).findOne({ where: { id, consumerId: caller.memberId }, lock: { mode: 'pessimistic_write' } });
      if (!found) throw new Problem('CASE_NOT_FOUND', `no case ${id}`);
      if (found.state !== 'open') throw new Problem('STATE_CONFLICT', `case ${id} is ${found.state}; only an open case can be withdrawn`);
      await em.getRepository(CaseEntity).update({ id }, { state: 'withdrawn', closedAt: new Date() });
      await this.audit.appendWithin(em, changeBy(caller, 'case.withdrawn', `case:${id}`, { caseId: id, purpose: found.matterCode }));
    });
    return this.get(caller, id);
  }

  private async owned(caller: Caller, id: string): Promise<CaseEntity> {
    const found = await this.dataSource.getRepository(CaseEntity).findOneBy({ id, consumerId: caller.memberId });
    if (!found) throw new Problem('CASE_NOT_FOUND', `no case ${id}`);
    return found;
  }
}

function view(c: CaseEntity): CaseView {
  return {
    id: c.id,
    matter: c.matterCode,
    state: c.state,
    parties: c.parties,
    ...(c.property ? { property: c.property } : {}),
    ...(c.utilityAccounts ? { utilityAccounts: c.utilityAccounts } : {}),
    materials: c.materials,
    transfers: [],
    openedBy: c.openedBy,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    ...(c.closedAt ? { closedAt: c.closedAt.toISOString() } : {}),
  };
}
