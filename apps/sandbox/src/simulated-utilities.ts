import { randomUUID } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { RequestContext } from '@datarun/request-context';

export interface UtilityApplication {
  readonly requestId: string;
  readonly request: 'transfer' | 'discount';
  readonly accountNumber: string;
  readonly holder: { name: string; idNumberMasked: string };
  readonly matter?: string;
  readonly property?: { unitNumber: string; address: string };
  readonly effectiveDate: string;
  readonly materials: ReadonlyArray<{ type: string; sha256: string }>;
}

interface Account {
  accountNumber: string;
  holder?: { name: string; idNumberMasked: string };
  discounts: string[];
  /** Request ids in the order they were applied: what the ordering tests read. */
  history: string[];
}

interface Applied {
  requestId: string;
  accountNumber: string;
  request: 'transfer' | 'discount';
  unitNumber?: string;
  reference: string;
  appliedAt: string;
  /** Every call with this request id, the first included: above 1 means a sender retried. */
  calls: number;
  /** What the first call's x-request-id or traceparent named, as a real system would log it. */
  correlationId?: string;
}

/**
 * One utility's customer system, in memory: accounts, holders, discounts. Like a real billing
 * system it takes an idempotency key (the request id) and answers a repeated request with the
 * first answer instead of applying it again. Accounts whose number starts with CLOSED refuse.
 */
export class SimulatedUtility {
  private readonly accounts = new Map<string, Account>();
  private readonly applied = new Map<string, Applied>();
  private readonly order: Applied[] = [];
  private unavailableUntil = 0;
  private latencyMs = 0;

  constructor(readonly kind: string) {}

  async apply(a: UtilityApplication): Promise<{ reference: string; duplicate: boolean }> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (Date.now() < this.unavailableUntil) throw new Problem('SERVICE_UNAVAILABLE', `the ${this.kind} system is down for maintenance`);
    const seen = this.applied.get(a.requestId);
    if (seen) {
      seen.calls += 1;
      return { reference: seen.reference, duplicate: true };
    }
    if (a.accountNumber.startsWith('CLOSED')) throw new Problem('STATE_CONFLICT', `account ${a.accountNumber} is closed`);
    const account = this.accounts.get(a.accountNumber) ?? { accountNumber: a.accountNumber, discounts: [], history: [] };
    if (a.request === 'transfer') account.holder = { ...a.holder };
    else if (a.matter && !account.discounts.includes(a.matter)) account.discounts.push(a.matter);
    account.history.push(a.requestId);
    this.accounts.set(a.accountNumber, account);
    const done: Applied = {
      requestId: a.requestId,
      accountNumber: a.accountNumber,
      request: a.request,
      ...(a.property ? { unitNumber: a.property.unitNumber } : {}),
      reference: `${this.kind.slice(0, 1).toUpperCase()}-${randomUUID().slice(0, 8)}`,
      appliedAt: new Date().toISOString(),
      calls: 1,
      ...correlated(),
    };
    this.applied.set(a.requestId, done);
    this.order.push(done);
    return { reference: done.reference, duplicate: false };
  }

  /** An account, or NOT_FOUND. */
  account(number: string): Account {
    const account = this.accounts.get(number);
    if (!account) throw new Problem('NOT_FOUND', `no ${this.kind} account ${number}`);
    return account;
  }

  /** Applied requests in the order they were applied. */
  requests(): readonly Applied[] {
    return this.order;
  }

  /** Simulates a slow system: every apply takes this long (fault tests use it to kill a bridge mid-batch). */
  slowDown(ms: number): void {
    this.latencyMs = ms;
  }

  /** Simulates an outage: every call fails with 503 for this long. */
  outage(seconds: number): void {
    this.unavailableUntil = Date.now() + seconds * 1000;
  }

  /** The counts, which the bridge's readiness probes: SERVICE_UNAVAILABLE during an outage. */
  summary(): { kind: string; accounts: number; applied: number; available: boolean } {
    const available = Date.now() >= this.unavailableUntil;
    if (!available) throw new Problem('SERVICE_UNAVAILABLE', `the ${this.kind} system is down for maintenance`);
    return { kind: this.kind, accounts: this.accounts.size, applied: this.order.length, available };
  }
}

/** The sandbox's request context names the caller's correlation id (the platform's edge took it from the headers). */
function correlated(): { correlationId?: string } {
  const correlationId = RequestContext.correlationId();
  return correlationId === undefined ? {} : { correlationId };
}

/** The utilities the sandbox simulates; any lower-case kind gets one on first use. */
export class SimulatedUtilities {
  private readonly byKind = new Map<string, SimulatedUtility>();

  of(kind: string): SimulatedUtility {
    if (!/^[a-z][a-z0-9-]{1,31}$/.test(kind)) throw new Problem('NOT_FOUND', `no simulated utility ${kind}`);
    let utility = this.byKind.get(kind);
    if (!utility) {
      utility = new SimulatedUtility(kind);
      this.byKind.set(kind, utility);
    }
    return utility;
  }
}
