import { Problem } from '@datarun/problems';
import { type BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** One change of a case as its stream tells it. */
export interface CaseEventMessage {
  /** The event's position: send it back as `Last-Event-ID` to resume after it. */
  id: string;
  /** `case.<state>`, `approval.<state>`, `material.uploaded`, `request.<state>`. */
  type: string;
  data: Record<string, unknown>;
  at: string;
}

/** Where the stream writes: an open response (Server-Sent Events). */
export interface EventSink {
  write(chunk: string): unknown;
  readonly closed: boolean;
}

const BATCH = 100;
/** How often a quiet stream looks for new events. */
export const POLL_MS = 500;
/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * A case's changes as Server-Sent Events (GET /v1/cases/{id}/events): every event after
 * `Last-Event-ID` (all of them without one), then each new one as it is written, in order. The
 * events come from `case_event`, which triggers fill in the transaction of each change, in any
 * process; the stream reads them every POLL_MS while it has nothing to send. Streams end when the
 * client goes or the app shuts down.
 */
@Injectable()
export class CaseEventStream implements BeforeApplicationShutdown {
  private closing = false;

  constructor(private readonly dataSource: DataSource) {}

  beforeApplicationShutdown(): void {
    this.closing = true;
  }

  /** The position a client sent back (`Last-Event-ID`), or VALIDATION_FAILED. */
  static positionOf(lastEventId: string | undefined): string {
    if (lastEventId === undefined || lastEventId === '') return '0';
    if (!/^[0-9]{1,19}$/.test(lastEventId)) throw new Problem('VALIDATION_FAILED', 'Last-Event-ID must be the id of an event this stream sent');
    return lastEventId;
  }

  /** Events of a case after a position, oldest first. */
  async after(caseId: string, position: string, limit = BATCH): Promise<CaseEventMessage[]> {
    const rows = await this.dataSource.query<Array<{ seq: string; type: string; data: Record<string, unknown>; at: Date }>>(
      'SELECT seq, type, data, at FROM case_event WHERE case_id = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3',
      [caseId, position, limit],
    );
    return rows.map((r) => ({ id: r.seq, type: r.type, data: r.data, at: r.at.toISOString() }));
  }

  /** Streams the case's events after `position` into `sink` until it closes or the app stops. */
  async run(caseId: string, position: string, sink: EventSink): Promise<void> {
    let last = position;
    let quietSince = Date.now();
    // The browser's EventSource waits this long before it reconnects (with Last-Event-ID).
    sink.write('retry: 2000\n\n');
    while (!sink.closed && !this.closing) {
      const events = await this.after(caseId, last);
      for (const e of events) {
        sink.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e.data, at: e.at })}\n\n`);
        last = e.id;
      }
      if (events.length > 0) {
        quietSince = Date.now();
        if (events.length === BATCH) continue;
      } else if (Date.now() - quietSince >= HEARTBEAT_MS) {
        sink.write(': still here\n\n');
        quietSince = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
