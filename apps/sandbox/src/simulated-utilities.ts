import { Problem } from '@datarun/problems';
import { type AppliedRecord, type ReceivedMaterial, type SentMaterial, SimulatedSystem, SimulatedSystems } from './simulated-system.js';

export type { ReceivedMaterial } from './simulated-system.js';

/** The holder as a utility receives it: name and masked ID number, and what the matter's entry adds (idNumber, role). */
export interface UtilityHolder {
  name: string;
  idNumberMasked: string;
  idNumber?: string;
  role?: string;
}

export interface UtilityApplication {
  readonly requestId: string;
  readonly request: 'transfer' | 'discount';
  readonly accountNumber: string;
  readonly holder: UtilityHolder;
  readonly matter?: string;
  readonly property?: { unitNumber: string; address: string };
  readonly effectiveDate: string;
  /** The member the request was addressed to, when the sender names it. */
  readonly recipient?: string;
  /** Each material's bytes in base64, with the SHA-256 and size the sender says they have. */
  readonly materials: readonly SentMaterial[];
}

interface Account {
  accountNumber: string;
  holder?: UtilityHolder;
  discounts: string[];
  /** Request ids in the order they were applied: what the ordering tests read. */
  history: string[];
  /** The materials received with those requests, in the same order. */
  materials: Array<ReceivedMaterial & { requestId: string }>;
}

interface AppliedUtilityRequest extends AppliedRecord {
  accountNumber: string;
  request: 'transfer' | 'discount';
  unitNumber?: string;
}

/**
 * One utility's customer system, in memory: accounts, holders, discounts. Accounts whose number
 * starts with CLOSED refuse, until reopened (as a customer service desk would, after which the
 * request is sent again); accounts whose number starts with FAILING answer 503 until reopened (a
 * fault of the system on one account, which a connector must retry without holding up the rest). Idempotent by request id, documents checked (SimulatedSystem); a refusal
 * is not remembered, so the same request id applies once its account is open.
 */
export class SimulatedUtility extends SimulatedSystem<AppliedUtilityRequest> {
  private readonly accounts = new Map<string, Account>();
  private readonly reopened = new Set<string>();

  constructor(readonly kind: string) {
    super(`the ${kind} system`, kind.slice(0, 1).toUpperCase());
  }

  apply(a: UtilityApplication): Promise<{ reference: string; duplicate: boolean }> {
    return this.record(a.requestId, a.materials, (documents) => {
      if (a.accountNumber.startsWith('CLOSED') && !this.reopened.has(a.accountNumber))
        throw new Problem('STATE_CONFLICT', `account ${a.accountNumber} is closed`);
      if (a.accountNumber.startsWith('FAILING') && !this.reopened.has(a.accountNumber))
        throw new Problem('SERVICE_UNAVAILABLE', `${this.title} fails on account ${a.accountNumber}`);
      const account = this.accounts.get(a.accountNumber) ?? { accountNumber: a.accountNumber, discounts: [], history: [], materials: [] };
      if (a.request === 'transfer') account.holder = { ...a.holder };
      else if (a.matter && !account.discounts.includes(a.matter)) account.discounts.push(a.matter);
      account.history.push(a.requestId);
      account.materials.push(...documents.map((material) => ({ requestId: a.requestId, ...material })));
      this.accounts.set(a.accountNumber, account);
      return { accountNumber: a.accountNumber, request: a.request, ...(a.property ? { unitNumber: a.property.unitNumber } : {}) };
    });
  }

  /** A CLOSED or FAILING account takes requests from now on. */
  reopen(number: string): void {
    this.reopened.add(number);
  }

  /** An account, or NOT_FOUND. */
  account(number: string): Account {
    const account = this.accounts.get(number);
    if (!account) throw new Problem('NOT_FOUND', `no ${this.kind} account ${number}`);
    return account;
  }

  /** The counts, which the connector's readiness probes: SERVICE_UNAVAILABLE during an outage. */
  summary(): { kind: string; accounts: number; applied: number; available: boolean } {
    return { kind: this.kind, accounts: this.accounts.size, applied: this.requests().length, available: this.available() };
  }
}

/** The utilities the sandbox simulates; any lower-case kind gets one on first use. */
export class SimulatedUtilities extends SimulatedSystems<SimulatedUtility> {
  constructor() {
    super(/^[a-z][a-z0-9-]{1,31}$/, 'utility', (kind) => new SimulatedUtility(kind));
  }
}
