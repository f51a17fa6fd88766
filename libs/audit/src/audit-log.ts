import { randomUUID } from 'node:crypto';
import { Problem } from '@datarun/problems';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AuditDecision } from './audit-event.entity.js';

export interface AuditEventInput {
  readonly memberId: string;
  readonly actor: string;
  readonly action: string;
  readonly decision: AuditDecision;
  readonly sourceId?: string;
  /** Already pseudonymised (SubjectPseudonyms). */
  readonly subjectHash?: string;
  readonly purpose?: string;
  readonly caseId?: string;
  readonly fields?: readonly string[];
  readonly reason?: string;
  readonly latencyMs?: number;
  readonly correlationId?: string;
}

interface Pending {
  readonly id: string;
  readonly at: Date;
  readonly event: AuditEventInput;
  readonly resolve: (id: string) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_BATCH = 1000;
const COLUMNS = ['id', 'at', 'member_id', 'actor', 'action', 'source_id', 'subject_hash', 'purpose', 'case_id', 'fields', 'decision', 'reason', 'latency_ms', 'correlation_id'];
const TYPES = ['uuid', 'timestamptz', 'text', 'text', 'text', 'text', 'text', 'text', 'uuid', 'text', 'text', 'text', 'int', 'text'];
// `fields` travels as a JSON array per row (unnest cannot take an array of arrays).
const INSERT = `INSERT INTO audit_event (${COLUMNS.join(', ')})
  SELECT id, at, member_id, actor, action, source_id, subject_hash, purpose, case_id,
         ARRAY(SELECT jsonb_array_elements_text(fields::jsonb)), decision, reason, latency_ms, correlation_id
  FROM unnest(${TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})
    AS t(${COLUMNS.join(', ')})`;

/**
 * Appends audit events with group commit: events from concurrent requests wait at most one
 * flush and go to PostgreSQL in one INSERT (one transaction); each caller's promise settles only
 * when its event is committed, so no audited answer leaves before its record exists. A failed
 * write rejects every caller of that batch with AUDIT_UNAVAILABLE: fail closed.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('AuditLog');
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly dataSource: DataSource) {}

  append(event: AuditEventInput): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.queue.push({ id: randomUUID(), at: new Date(), event, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        await this.dataSource.query(INSERT, columnsOf(batch));
        for (const p of batch) p.resolve(p.id);
      } catch (error) {
        this.logger.error(`cannot append ${batch.length} audit event(s): ${(error as Error).message}`);
        const unavailable = new Problem('AUDIT_UNAVAILABLE', 'the access could not be recorded in the audit log, so nothing is released');
        for (const p of batch) p.reject(unavailable);
      }
    }
    this.flushing = false;
  }
}

function columnsOf(batch: readonly Pending[]): unknown[][] {
  const pick = (f: (p: Pending) => unknown) => batch.map(f);
  return [
    pick((p) => p.id),
    pick((p) => p.at),
    pick((p) => p.event.memberId),
    pick((p) => p.event.actor),
    pick((p) => p.event.action),
    pick((p) => p.event.sourceId ?? null),
    pick((p) => p.event.subjectHash ?? null),
    pick((p) => p.event.purpose ?? null),
    pick((p) => p.event.caseId ?? null),
    pick((p) => JSON.stringify(p.event.fields ?? [])),
    pick((p) => p.event.decision),
    pick((p) => p.event.reason ?? null),
    pick((p) => (p.event.latencyMs === undefined ? null : Math.round(p.event.latencyMs))),
    pick((p) => p.event.correlationId ?? null),
  ];
}
