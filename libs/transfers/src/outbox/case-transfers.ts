import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RequestKind } from '../topics.js';
import type { TransferState } from './transfer-request.entity.js';

/** One request of a case to one recipient, as the case's view shows it. */
export interface CaseTransfer {
  readonly requestId: string;
  /** The utility kind of a kind's transfer or discount; null for a benefit. */
  readonly utility: string | null;
  /** The recipient member; null only on rows written before recipients were registered. */
  readonly recipient: string | null;
  readonly request: RequestKind;
  readonly benefit: string | null;
  readonly state: TransferState;
  readonly reference: string | null;
  readonly reason: string | null;
  readonly updatedAt: Date;
  readonly publishedAt: Date | null;
  readonly createdAt: Date;
}

/** The outbox's read side for the cases lib: a case's requests, and whether a request routes a material. */
@Injectable()
export class CaseTransfers {
  constructor(private readonly dataSource: DataSource) {}

  /** The case's requests in outbox order. */
  async ofCase(caseId: string): Promise<CaseTransfer[]> {
    const rows: Array<{
      request_id: string;
      utility: string | null;
      recipient: string | null;
      request_kind: RequestKind;
      benefit: string | null;
      state: TransferState;
      reference: string | null;
      reason: string | null;
      updated_at: Date;
      published_at: Date | null;
      created_at: Date;
    }> = await this.dataSource.query(
      `SELECT request_id, utility, recipient, request_kind, benefit, state, reference, reason, updated_at, published_at, created_at FROM transfer_request WHERE case_id = $1 ORDER BY seq`,
      [caseId],
    );
    return rows.map((r) => ({
      requestId: r.request_id,
      utility: r.utility,
      recipient: r.recipient,
      request: r.request_kind,
      benefit: r.benefit,
      state: r.state,
      reference: r.reference,
      reason: r.reason,
      updatedAt: r.updated_at,
      publishedAt: r.published_at,
      createdAt: r.created_at,
    }));
  }

  /**
   * The request `requestId` to `recipient` (a member id) if it routes the material `materialId` (a
   * signed link's claims): its case and the body it carried (whose holder is the person the fetch
   * concerns), or undefined: a material is fetched only for a request that carries it, by its recipient.
   */
  async routing(requestId: string, recipient: string, materialId: string): Promise<{ caseId: string; payload: Record<string, unknown> } | undefined> {
    const [row] = await this.dataSource.query<Array<{ case_id: string; payload: Record<string, unknown> }>>(
      `SELECT case_id, payload FROM transfer_request
        WHERE request_id = $1 AND recipient = $2 AND payload->'materials' @> jsonb_build_array(jsonb_build_object('materialId', $3::uuid::text))`,
      [requestId, recipient, materialId],
    );
    return row && { caseId: row.case_id, payload: row.payload };
  }
}
