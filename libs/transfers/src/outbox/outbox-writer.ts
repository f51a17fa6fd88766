import { RequestContext } from '@datarun/request-context';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PlannedRequest } from '../transfer-requests.js';

/**
 * The outbox's write side, the port a case's completion and resend use. Every method takes the
 * caller's EntityManager: the requests commit in the same transaction as the case's state change
 * and its audit record, or not at all (the transactional outbox). Each row keeps the correlation id
 * of the request that wrote it (the request context's), for the event the relay publishes later.
 */
@Injectable()
export class OutboxWriter {
  /** One pending row per planned request, in one statement. */
  async enqueue(em: EntityManager, caseId: string, planned: readonly PlannedRequest[]): Promise<void> {
    if (planned.length === 0) return;
    await em.query(
      `INSERT INTO transfer_request (request_id, case_id, utility, request_kind, topic, message_key, payload, recipient, benefit, correlation_id)
       SELECT *, $10::text FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::text[])`,
      [
        planned.map((p) => p.requestId),
        planned.map(() => caseId),
        planned.map((p) => p.utility),
        planned.map((p) => p.request),
        planned.map((p) => p.topic),
        planned.map((p) => p.key),
        planned.map((p) => JSON.stringify(p.payload)),
        planned.map((p) => p.recipient),
        planned.map((p) => p.benefit),
        RequestContext.correlationId() ?? null,
      ],
    );
  }

  /**
   * Puts a case's request back to pending for the relay to send again; its recipient (or, on a row
   * from before recipients were registered, its utility kind), or undefined
   * when the case has no such request. The resend is the row's newest request: its correlation id
   * replaces the completion's (whose audit records keep theirs), so the copy that goes out and the
   * statuses that answer it follow the resend. A status signed before `resent_at` answered the
   * earlier send, and the relay refuses it (a replay of it must not undo the resend).
   */
  async resend(em: EntityManager, caseId: string, requestId: string): Promise<string | undefined> {
    const [row] = await em.query<Array<{ recipient: string }>>(
      // As a CTE: TypeORM answers a bare UPDATE with [rows, count] instead of the rows.
      `WITH resent AS (UPDATE transfer_request SET state = 'pending', reason = NULL, updated_at = now(), resent_at = now(), correlation_id = coalesce($3, correlation_id)
                        WHERE case_id = $1 AND request_id = $2 RETURNING coalesce(recipient, utility) AS recipient)
       SELECT * FROM resent`,
      [caseId, requestId, RequestContext.correlationId() ?? null],
    );
    return row?.recipient;
  }
}
