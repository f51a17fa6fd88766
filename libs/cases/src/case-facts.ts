import { CaseMatters, type CaseParty } from '@datarun/transfers';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { CaseState } from './case.entity.js';

/** What a lookup needs to know of a case (column names as in service_case). */
export interface CaseFactsRow {
  state: CaseState;
  matter_code: string;
  parties: Array<{ idNumber: string; role: string }>;
}

/**
 * A consumer's case as one JSON object (`CaseFactsRow`), or null when the case is not the
 * consumer's or does not exist. A scalar subquery for the lookup hot path, which reads the case
 * and the grants in one prepared statement (`@datarun/lookups`); the arguments are the statement's
 * parameter placeholders, e.g. `$1`.
 */
export function caseFactsSql(caseId: string, consumer: string): string {
  return `SELECT row_to_json(c) FROM (SELECT state, matter_code, parties FROM service_case WHERE id = ${caseId} AND consumer_id = ${consumer}) c`;
}

/**
 * The cases lib's read port for other libs: the facts of a consumer's case (evidence bundles), and
 * the matter and parties of cases (the relay's audit records, as the transfers lib's `CaseMatters`).
 */
@Injectable()
export class CaseFacts extends CaseMatters {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  /** The consumer's case, or undefined for another member's case or none. */
  async of(caseId: string, consumerId: string): Promise<CaseFactsRow | undefined> {
    const rows: CaseFactsRow[] = await this.dataSource.query('SELECT state, matter_code, parties FROM service_case WHERE id = $1 AND consumer_id = $2', [
      caseId,
      consumerId,
    ]);
    return rows[0];
  }

  async matterCodesOf(caseIds: readonly string[], em: EntityManager = this.dataSource.manager): Promise<ReadonlyMap<string, string>> {
    if (caseIds.length === 0) return new Map();
    // SQL rather than the entity's repository: the relay, which asks, does not register the cases' entities.
    const rows: Array<{ id: string; matter_code: string }> = await em.query('SELECT id, matter_code FROM service_case WHERE id = ANY($1::uuid[])', [caseIds]);
    return new Map(rows.map((r) => [r.id, r.matter_code]));
  }

  async partiesOf(caseIds: readonly string[], em: EntityManager = this.dataSource.manager): Promise<ReadonlyMap<string, readonly CaseParty[]>> {
    if (caseIds.length === 0) return new Map();
    const rows: Array<{ id: string; parties: CaseParty[] }> = await em.query('SELECT id, parties FROM service_case WHERE id = ANY($1::uuid[])', [caseIds]);
    return new Map(rows.map((r) => [r.id, r.parties]));
  }
}
