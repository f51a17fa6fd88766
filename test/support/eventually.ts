// The one way a test waits for what the system does in the background (a consumer, the relay, a
// pool reconnecting, a process coming up): poll until it is so, never sleep a fixed time. A fixed
// sleep is too short on a busy machine (a flaky test) or longer than needed (a slow one), and when
// it is too short the failure does not say what was missing; this one names what was awaited and
// the last answer or error the probe gave.
import { inspect } from 'node:util';

export interface EventuallyOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Pause between two probes (default 100 ms). */
  readonly everyMs?: number;
}

/**
 * Calls `probe` until it answers something other than `undefined` or `false`, and returns that.
 * A probe that throws (a refused connection, a failed `expect`) is tried again. With `until`,
 * waits until `until(answer)` holds and returns the answer: the timeout message then shows the
 * last answer itself (a count, a case's progress) rather than only that it was not there yet.
 */
export function eventually<T>(what: string, probe: () => T | Promise<T>, options: EventuallyOptions & { readonly until: (answer: T) => boolean }): Promise<T>;
export function eventually<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, options?: EventuallyOptions): Promise<T>;
export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  options: EventuallyOptions & { readonly until?: (answer: T) => boolean } = {},
): Promise<T> {
  const { timeoutMs = 30_000, everyMs = 100 } = options;
  const ready = options.until ?? ((answer: T) => answer !== undefined && answer !== false);
  const deadline = Date.now() + timeoutMs;
  let last: { answer: T } | { error: unknown } | undefined;
  for (;;) {
    last = await withinDeadline(probe, deadline).then(
      (answer) => ({ answer }),
      (error: unknown) => ({ error }),
    );
    if ('answer' in last && ready(last.answer)) return last.answer;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, Math.max(0, deadline - Date.now()))));
  }
  const seen = 'error' in last ? `last error: ${(last.error as Error)?.message ?? String(last.error)}` : `last answer: ${shown(last.answer)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${seen}`, { cause: 'error' in last ? last.error : undefined });
}

/**
 * One probe, failed if it has not answered by the deadline (or within a second, for a probe that
 * starts just before it): a hung request must not outlast the wait.
 */
async function withinDeadline<T>(probe: () => T | Promise<T>, deadline: number): Promise<T> {
  const limitMs = Math.max(deadline - Date.now(), 1000);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the probe did not answer within ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), late]);
  } finally {
    clearTimeout(timer);
  }
}

function shown(answer: unknown): string {
  const text = inspect(answer, { depth: 4, breakLength: Infinity, maxArrayLength: 10, maxStringLength: 200 });
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
