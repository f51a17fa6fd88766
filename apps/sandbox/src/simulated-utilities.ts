import { createHash, randomUUID } from 'node:crypto';
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
  /** Each material's bytes in base64, with the SHA-256 and size the sender says they have. */
  readonly materials: ReadonlyArray<{ type: string; sha256: string; contentType: string; size: number; content: string }>;
}

/** What the system kept of a material it received: its own SHA-256 of the bytes, never the bytes in a listing. */
export interface ReceivedMaterial {
  type: string;
  contentType: string;
  size: number;
  /** Computed by this system from the bytes it received (and equal to the one the sender named). */
  sha256: string;
}

/** The received bytes kept for fetching back, across all requests, before the oldest are dropped. */
const KEPT_BYTES = 64 * 1024 * 1024;

interface Account {
  accountNumber: string;
  holder?: { name: string; idNumberMasked: string };
  discounts: string[];
  /** Request ids in the order they were applied: what the ordering tests read. */
  history: string[];
  /** The materials received with those requests, in the same order. */
  materials: Array<ReceivedMaterial & { requestId: string }>;
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
  /** The documents that came with the request, as this system checked them. */
  materials: ReceivedMaterial[];
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
  /** Received bytes by `requestId/type`, oldest first, at most KEPT_BYTES in all: for fetching back in a demo. */
  private readonly kept = new Map<string, { contentType: string; bytes: Buffer }>();
  private keptBytes = 0;
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
    const documents = received(a.materials);
    if (a.accountNumber.startsWith('CLOSED')) throw new Problem('STATE_CONFLICT', `account ${a.accountNumber} is closed`);
    const account = this.accounts.get(a.accountNumber) ?? { accountNumber: a.accountNumber, discounts: [], history: [], materials: [] };
    if (a.request === 'transfer') account.holder = { ...a.holder };
    else if (a.matter && !account.discounts.includes(a.matter)) account.discounts.push(a.matter);
    account.history.push(a.requestId);
    account.materials.push(...documents.map(({ material }) => ({ requestId: a.requestId, ...material })));
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
      materials: documents.map(({ material }) => material),
    };
    this.applied.set(a.requestId, done);
    this.order.push(done);
    for (const { material, bytes } of documents) this.keep(`${a.requestId}/${material.type}`, material.contentType, bytes);
    return { reference: done.reference, duplicate: false };
  }

  /** An account, or NOT_FOUND. */
  account(number: string): Account {
    const account = this.accounts.get(number);
    if (!account) throw new Problem('NOT_FOUND', `no ${this.kind} account ${number}`);
    return account;
  }

  /** A received material's bytes, while they are still kept; else NOT_FOUND. */
  material(requestId: string, type: string): { contentType: string; bytes: Buffer } {
    const kept = this.kept.get(`${requestId}/${type}`);
    if (!kept) throw new Problem('NOT_FOUND', `the ${this.kind} system keeps no material ${type} of request ${requestId}`);
    return kept;
  }

  private keep(key: string, contentType: string, bytes: Buffer): void {
    this.kept.set(key, { contentType, bytes });
    this.keptBytes += bytes.length;
    for (const [oldest, { bytes: dropped }] of this.kept) {
      if (this.keptBytes <= KEPT_BYTES) break;
      this.kept.delete(oldest);
      this.keptBytes -= dropped.length;
    }
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

/**
 * Decodes and checks every material before anything is applied, as a utility's document store
 * would: the bytes must be valid base64 of the size named, and their SHA-256 the one named.
 */
function received(materials: UtilityApplication['materials']): Array<{ material: ReceivedMaterial; bytes: Buffer }> {
  return materials.map((m) => {
    const bytes = Buffer.from(m.content, 'base64');
    // Buffer.from skips what is not base64; encoding back shows whether anything was skipped.
    if (bytes.toString('base64') !== m.content) throw new Problem('VALIDATION_FAILED', `material ${m.type}: content is not base64`);
    if (bytes.length !== m.size) throw new Problem('VALIDATION_FAILED', `material ${m.type}: ${bytes.length} bytes received, the application says ${m.size}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== m.sha256) {
      throw new Problem('MATERIAL_HASH_MISMATCH', `material ${m.type}: the bytes received have SHA-256 ${sha256}, the application says ${m.sha256}`);
    }
    return { material: { type: m.type, contentType: m.contentType, size: bytes.length, sha256 }, bytes };
  });
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
