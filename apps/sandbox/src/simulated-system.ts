import { createHash, randomUUID } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { RequestContext } from '@datarun/request-context';

/** A material as an application carries it: the bytes in base64, with the SHA-256 and size the sender says they have. */
export interface SentMaterial {
  readonly type: string;
  readonly sha256: string;
  readonly contentType: string;
  readonly size: number;
  readonly content: string;
}

/** What the system kept of a material it received: its own SHA-256 of the bytes, never the bytes in a listing. */
export interface ReceivedMaterial {
  type: string;
  contentType: string;
  size: number;
  /** Computed by this system from the bytes it received (and equal to the one the sender named). */
  sha256: string;
}

/** What every simulated system records of a request it applied, besides what its own kind of application says. */
export interface AppliedRecord {
  requestId: string;
  reference: string;
  appliedAt: string;
  /** Every call with this request id, the first included: above 1 means a sender retried. */
  calls: number;
  /** What the first call's x-request-id or traceparent named, as a real system would log it. */
  correlationId?: string;
  /** The documents that came with the request, as this system checked them. */
  materials: ReceivedMaterial[];
}

/** The received bytes kept for fetching back, per system, across all its requests, before the oldest are dropped. */
const KEPT_BYTES = 64 * 1024 * 1024;

/**
 * One recipient's own system, in memory: what a utility's billing system and a department's
 * beneficiary register share. Like a real system it takes an idempotency key (the request id) and
 * answers a repeated request with the first answer instead of applying it again; it decodes and
 * checks every document before applying anything, and keeps the most recent bytes it received
 * for fetching back. Each kind of system says what applying changes (`record`'s `change`).
 */
export class SimulatedSystem<A extends AppliedRecord> {
  private readonly applied = new Map<string, A>();
  private readonly order: A[] = [];
  /** Received bytes by `requestId/type`, oldest first, at most KEPT_BYTES in all: for fetching back in a demo. */
  private readonly kept = new Map<string, { contentType: string; bytes: Buffer }>();
  private keptBytes = 0;
  private unavailableUntil = 0;
  private latencyMs = 0;

  constructor(
    /** How the system names itself in its answers: `the water system`, `the register of zj.demo.renshe`. */
    protected readonly title: string,
    /** The first letters of its references. */
    private readonly referencePrefix: string,
  ) {}

  /**
   * Applies one request once: a repeated request id answers the first reference and changes
   * nothing. `change` applies the request's own part (after its documents were checked; it may
   * refuse with a Problem, and then nothing is recorded) and gives the fields of its record.
   */
  protected async record(
    requestId: string,
    materials: readonly SentMaterial[],
    change: (documents: ReceivedMaterial[]) => Omit<A, keyof AppliedRecord>,
  ): Promise<{ reference: string; duplicate: boolean }> {
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (Date.now() < this.unavailableUntil) throw new Problem('SERVICE_UNAVAILABLE', `${this.title} is down for maintenance`);
    const seen = this.applied.get(requestId);
    if (seen) {
      seen.calls += 1;
      return { reference: seen.reference, duplicate: true };
    }
    const documents = received(materials);
    const fields = change(documents.map(({ material }) => material));
    const done = {
      ...fields,
      requestId,
      reference: `${this.referencePrefix}-${randomUUID().slice(0, 8)}`,
      appliedAt: new Date().toISOString(),
      calls: 1,
      ...correlated(),
      materials: documents.map(({ material }) => material),
    } as A;
    this.applied.set(requestId, done);
    this.order.push(done);
    for (const { material, bytes } of documents) this.keep(`${requestId}/${material.type}`, material.contentType, bytes);
    return { reference: done.reference, duplicate: false };
  }

  /** The reference of a request already applied, else undefined: a redelivered request is answered without fetching anything again. */
  referenceOf(requestId: string): string | undefined {
    return this.applied.get(requestId)?.reference;
  }

  /** A received material's bytes, while they are still kept; else NOT_FOUND. */
  material(requestId: string, type: string): { contentType: string; bytes: Buffer } {
    const kept = this.kept.get(`${requestId}/${type}`);
    if (!kept) throw new Problem('NOT_FOUND', `${this.title} keeps no material ${type} of request ${requestId}`);
    return kept;
  }

  /** Applied requests in the order they were applied. */
  requests(): readonly A[] {
    return this.order;
  }

  /** Simulates a slow system: every apply takes this long (fault tests use it to kill a connector mid-batch). */
  slowDown(ms: number): void {
    this.latencyMs = ms;
  }

  /** Simulates an outage: every call fails with 503 for this long. */
  outage(seconds: number): void {
    this.unavailableUntil = Date.now() + seconds * 1000;
  }

  /** True, or SERVICE_UNAVAILABLE during an outage: what a summary (and a connector's readiness) reads. */
  protected available(): true {
    if (Date.now() < this.unavailableUntil) throw new Problem('SERVICE_UNAVAILABLE', `${this.title} is down for maintenance`);
    return true;
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
}

/**
 * Decodes and checks every material before anything is applied, as a recipient's document store
 * would: the bytes must be valid base64 of the size named, and their SHA-256 the one named.
 */
function received(materials: readonly SentMaterial[]): Array<{ material: ReceivedMaterial; bytes: Buffer }> {
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

/** The simulated systems of one kind, by name (a utility kind, a member id), each made on first use. */
export class SimulatedSystems<S> {
  private readonly byName = new Map<string, S>();

  constructor(
    private readonly pattern: RegExp,
    private readonly what: string,
    private readonly make: (name: string) => S,
  ) {}

  of(name: string): S {
    if (!this.pattern.test(name)) throw new Problem('NOT_FOUND', `no simulated ${this.what} ${name}`);
    let system = this.byName.get(name);
    if (!system) {
      system = this.make(name);
      this.byName.set(name, system);
    }
    return system;
  }
}
