import { type AppliedRecord, type SentMaterial, SimulatedSystem, SimulatedSystems } from './simulated-system.js';

/** The beneficiary as a department receives it: name and masked ID number, and what the matter's entry adds (idNumber, role). */
export interface Beneficiary {
  name: string;
  idNumberMasked: string;
  idNumber?: string;
  role?: string;
}

/** What a matter decided, as the department records the benefit under it. */
export interface BenefitDecision {
  matter: string;
  decidedAt: string;
  validFrom: string;
  validUntil?: string;
}

/** A benefit request as a department's own system takes it: the request's fields, the documents themselves. */
export interface BenefitApplication {
  readonly requestId: string;
  readonly request: 'benefit';
  readonly benefit: string;
  readonly accountNumber?: string;
  readonly beneficiary: Beneficiary;
  readonly decision: BenefitDecision;
  readonly materials: readonly SentMaterial[];
}

interface AppliedBenefit extends AppliedRecord {
  request: 'benefit';
  benefit: string;
  accountNumber?: string;
  beneficiary: Beneficiary;
  decision: BenefitDecision;
}

/**
 * One department's beneficiary register, in memory: who receives which benefit under which
 * decision (人社's pension-insurance subsidy, 教育's aid, 残联's subsidy…). Idempotent by request
 * id, documents checked and kept (SimulatedSystem): the department's side of a benefit request.
 */
export class SimulatedRegister extends SimulatedSystem<AppliedBenefit> {
  /** Benefits per beneficiary (by masked ID number: what every department receives). */
  private readonly beneficiaries = new Map<string, Set<string>>();

  constructor(readonly member: string) {
    super(`the beneficiary register of ${member}`, 'B');
  }

  apply(a: BenefitApplication): Promise<{ reference: string; duplicate: boolean }> {
    return this.record(a.requestId, a.materials, () => {
      const benefits = this.beneficiaries.get(a.beneficiary.idNumberMasked) ?? new Set<string>();
      benefits.add(a.benefit);
      this.beneficiaries.set(a.beneficiary.idNumberMasked, benefits);
      return {
        request: 'benefit',
        benefit: a.benefit,
        ...(a.accountNumber === undefined ? {} : { accountNumber: a.accountNumber }),
        beneficiary: { ...a.beneficiary },
        decision: { ...a.decision },
      };
    });
  }

  /** The counts, which a connector's readiness probes: SERVICE_UNAVAILABLE during an outage. */
  summary(): { member: string; beneficiaries: number; applied: number; available: boolean } {
    return { member: this.member, beneficiaries: this.beneficiaries.size, applied: this.requests().length, available: this.available() };
  }
}

/** The departments' registers the sandbox simulates: any member id gets one on first use. */
export class SimulatedRegisters extends SimulatedSystems<SimulatedRegister> {
  constructor() {
    super(/^[a-z0-9][a-z0-9.-]{1,127}$/, 'recipient', (member) => new SimulatedRegister(member));
  }
}
