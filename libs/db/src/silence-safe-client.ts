import pg from 'pg';

/** What node-postgres rejects a query with when no answer came within `query_timeout`. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

/**
 * A `pg.Client` that gives up its connection when a query gets no answer within its
 * `query_timeout`. node-postgres rejects such a query but keeps the connection, with the unanswered
 * query still active on it: every later query on that connection waits behind it, so a pool whose
 * connections went silent (a dead host, a dropped route: no reset, no refusal) never heals, even
 * after the database answers again — the relay's outbox stalled for good in the blackhole fault
 * test. Destroying the socket ends the connection; the pool then discards the client on release
 * (it is no longer queryable) and opens a fresh one for the next query.
 */
export class SilenceSafeClient extends pg.Client {
  override query(...args: unknown[]): never {
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (error: Error | null, ...rest: unknown[]) => void;
      args[last] = (error: Error | null, ...rest: unknown[]) => {
        if (error) this.dropIfSilent(error);
        callback(error, ...rest);
      };
    }
    const result = (pg.Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) result.catch((error: Error) => this.dropIfSilent(error));
    return result as never;
  }

  /**
   * Runs before the caller sees the error (the first reaction on the query), so the client is
   * already unqueryable when the caller releases it: the pool discards it instead of handing it
   * out again (pg-pool's release checks `_queryable`, its own flag for a dead connection).
   */
  private dropIfSilent(error: Error): void {
    if (error?.message !== QUERY_READ_TIMEOUT) return;
    const self = this as unknown as { _queryable: boolean; connection: { stream: { destroy(): void } } };
    self._queryable = false;
    self.connection.stream.destroy();
  }
}
