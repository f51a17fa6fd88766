import { Problem } from '@datarun/problems';

/**
 * Per-member token buckets, in this process (each gateway replica limits on its own, so the
 * cluster-wide limit is the per-replica limit times the replicas). A member may spend `burst`
 * requests at once and `perSecond` on average.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request from the member's bucket or throws 429 RATE_LIMITED with when to retry. */
  take(memberId: string): void {
    const now = this.now();
    const bucket = this.buckets.get(memberId) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(memberId, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
      throw new Problem('RATE_LIMITED', `more than ${this.perSecond} requests a second from ${memberId}; retry in ${retryAfter} s`, { retryAfter });
    }
    bucket.tokens -= 1;
  }
}
