import { Problem } from '@datarun/problems';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by key (a member, a citizen, a remote address), in this process (each replica
 * limits on its own, so the cluster-wide limit is the per-replica limit times the replicas). A key
 * may spend `burst` requests at once and `perSecond` on average. At most `maxKeys` buckets are
 * kept, least recently used first out: the keys come from strangers (addresses, token subjects),
 * and a forgotten bucket is only a full one again.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Takes one request from `key`'s bucket or throws 429 RATE_LIMITED with when to retry; `who`
   * names the key in the refusal (never an ID number: the refusal is logged).
   */
  take(key: string, who = key): void {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: a Map iterates in insertion order, which makes it an LRU
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    } else {
      bucket = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
      throw new Problem('RATE_LIMITED', `more than ${this.perSecond} requests a second from ${who}; retry in ${retryAfter} s`, { retryAfter });
    }
    bucket.tokens -= 1;
  }

  /** How many keys have a bucket (bounded by `maxKeys`). */
  get size(): number {
    return this.buckets.size;
  }
}
