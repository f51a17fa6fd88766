import { CLS_ID, ClsServiceManager } from 'nestjs-cls';

/** Who is asking, as far as logs need it; the full caller travels in each use case's command. */
export interface ContextCaller {
  readonly memberId: string;
  readonly role: string;
}

const CALLER = Symbol('datarun.caller');

interface Store {
  [CLS_ID]?: string;
  [CALLER]?: ContextCaller;
}

/** nestjs-cls' one AsyncLocalStorage of the process, shared by every Nest app in it. */
const cls = () => ClsServiceManager.getClsService<Store & Record<symbol, unknown>>();

/**
 * The request context: what is being done now, for correlation, logs and the audit record. Entered
 * once per HTTP request (the platform's edge) and per consumed Kafka message (the messaging lib);
 * everything awaited inside sees it, nothing outside does.
 */
export class RequestContext {
  /** Runs `work` in a new context with this correlation id (never inheriting an enclosing one). */
  static run<T>(correlationId: string, work: () => T): T {
    return cls().runWith({ [CLS_ID]: correlationId }, work);
  }

  /** The correlation id of the work in progress; undefined outside any request or message. */
  static correlationId(): string | undefined {
    return cls().get(CLS_ID);
  }

  /** The verified caller of the request in progress, for logs; undefined before authentication. */
  static currentCaller(): ContextCaller | undefined {
    return cls().get(CALLER);
  }

  /** The guard attaches the caller it verified; outside a context there is nothing to attach to. */
  static attachCaller(caller: ContextCaller): void {
    if (cls().isActive()) cls().set(CALLER, { memberId: caller.memberId, role: caller.role });
  }

  /**
   * What every log line carries (the logger's mixin): the correlation id and the calling member.
   * Never the acting person: for a citizen that is an ID number.
   */
  static logFields(): { correlationId?: string; member?: string } {
    const store = cls().get();
    if (!store) return {};
    const caller = store[CALLER];
    return caller ? { correlationId: store[CLS_ID], member: caller.memberId } : { correlationId: store[CLS_ID] };
  }
}
