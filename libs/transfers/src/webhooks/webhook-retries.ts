import { EgressRefused } from '@datarun/egress';
import { Problem } from '@datarun/problems';

/** Exponential backoff with full jitter: the n-th retry waits a random time below min(cap, base · 2^(n-1)). */
export const WEBHOOK_BACKOFF = { baseMs: 200, capMs: 30_000 } as const;

/** What one attempt came to: delivered, worth another attempt, or never going to be delivered as it is. */
export type AttemptOutcome =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly status?: number; readonly retryAfterMs?: number }
  | { readonly kind: 'permanent'; readonly reason: string; readonly status?: number };

/**
 * An answer's meaning. 2xx: the recipient has it. 408, 429 and 5xx: the recipient (or a proxy
 * before it) is busy or broken for now. Any other 4xx says this request will never be taken as it
 * is, and a 3xx points elsewhere, which is not followed (the allowlist checked this endpoint,
 * not wherever a redirect leads): neither is retried.
 */
export function outcomeOfStatus(status: number, retryAfter?: string | null): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status >= 500 || status === 408 || status === 429) {
    const retryAfterMs = retryAfterMsOf(retryAfter);
    return { kind: 'retry', status, reason: `answered ${status}`, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  if (status >= 300 && status < 400) return { kind: 'permanent', status, reason: `answered ${status}, a redirect (not followed)` };
  return { kind: 'permanent', status, reason: `answered ${status}` };
}

/**
 * A failed attempt's meaning: the allowlist refusing the endpoint (when it is checked, or when
 * the socket connects to what DNS answered) does not change by retrying, so it is permanent and
 * nothing was sent; a timeout or a connection error is retried. The reason never carries what
 * DNS answered.
 */
export function outcomeOfError(error: unknown): AttemptOutcome {
  if (error instanceof Problem && error.code === 'ENDPOINT_NOT_ALLOWED') return { kind: 'permanent', reason: `ENDPOINT_NOT_ALLOWED: ${error.detail}` };
  if (error instanceof EgressRefused) return { kind: 'permanent', reason: `ENDPOINT_NOT_ALLOWED: ${error.message}` };
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'retry', reason: 'timed out' };
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { kind: 'retry', reason: `connection failed${code ? ` (${code})` : ''}` };
}

/** Retry-After in seconds or as an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
function retryAfterMsOf(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,9}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before retry `retry` (1 for the first retry): full jitter, so recipients that failed together do not retry together. */
export function backoffMs(retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(WEBHOOK_BACKOFF.capMs, WEBHOOK_BACKOFF.baseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** From the first attempt: no retry starts later than this. */
  readonly budgetMs: number;
}

/** Time as the retries see it: the real clock in the relay, a fake one in the unit spec. */
export interface RetryClock {
  now(): number;
  /** Waits `ms` (the relay heartbeats its consumer meanwhile, and shutdown cuts it short by throwing). */
  sleep(ms: number): Promise<void>;
  random(): number;
}

export type DeliveryVerdict =
  | { readonly delivered: true; readonly attempts: number; readonly status: number }
  | { readonly delivered: false; readonly attempts: number; readonly permanent: boolean; readonly reason: string };

/**
 * Makes attempts until one is delivered or permanent, or the attempts or the budget run out; a
 * Retry-After longer than the backoff is honoured (up to the cap). The verdict's reason is the
 * last attempt's, with why there was no other.
 */
export async function withRetries(
  attempt: (n: number) => Promise<AttemptOutcome>,
  policy: RetryPolicy,
  clock: RetryClock,
  onRetry: (n: number, outcome: AttemptOutcome & { kind: 'retry' }, waitMs: number) => void = () => undefined,
): Promise<DeliveryVerdict> {
  const started = clock.now();
  for (let n = 1; ; n += 1) {
    const outcome = await attempt(n);
    if (outcome.kind === 'delivered') return { delivered: true, attempts: n, status: outcome.status };
    if (outcome.kind === 'permanent') return { delivered: false, attempts: n, permanent: true, reason: outcome.reason };
    if (n >= policy.maxAttempts) return { delivered: false, attempts: n, permanent: false, reason: `${outcome.reason}; gave up after ${n} attempts` };
    const wait = Math.max(
      backoffMs(n, () => clock.random()),
      Math.min(outcome.retryAfterMs ?? 0, WEBHOOK_BACKOFF.capMs),
    );
    if (clock.now() + wait - started > policy.budgetMs) {
      return {
        delivered: false,
        attempts: n,
        permanent: false,
        reason: `${outcome.reason}; gave up after ${n} attempts, the retry budget of ${Math.round(policy.budgetMs / 1000)} s spent`,
      };
    }
    onRetry(n, outcome, wait);
    await clock.sleep(wait);
  }
}
