import { checkIdNumber } from '@datarun/identity';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ACCESS_ACTIONS } from './audit-queries.js';
import { SubjectPseudonyms } from './subject-pseudonym.js';

export interface AccessLogEntry {
  at: string;
  organisation: { id: string; name: string };
  source: { id: string; title: string | null };
  matter: { code: string | null; title: string | null };
  caseId: string | null;
  fields: string[];
}

export interface NamedIds {
  readonly members: readonly string[];
  readonly sources: readonly string[];
  readonly matters: readonly string[];
}

export interface Names {
  readonly members: ReadonlyMap<string, string>;
  readonly sources: ReadonlyMap<string, string>;
  readonly matters: ReadonlyMap<string, string>;
}

/**
 * What the access log needs from the registry: the names of members, the titles of sources and
 * matters, by id (an id it does not know is left out). Declared here because the registry depends
 * on the audit log (it audits its changes); the registry module provides it (`RegistryNames`).
 */
export abstract class AuditNames {
  abstract namesOf(ids: NamedIds): Promise<Names>;
}

/** The citizen's own access log: which organisation read which of my records, when, for which matter and case (never the clerk). */
@Injectable()
export class CitizenAccessLog {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pseudonyms: SubjectPseudonyms,
    private readonly names: AuditNames,
  ) {}

  async of(idNumber: string, limit = 500): Promise<AccessLogEntry[]> {
    const subject = this.pseudonyms.of(checkIdNumber(idNumber));
    const rows: Array<{ at: Date; member_id: string; source_id: string; purpose: string | null; case_id: string | null; fields: string[] }> =
      await this.dataSource.query(
        `SELECT at, member_id, source_id, purpose, case_id, fields
           FROM audit_event
          WHERE subject_hash = $1 AND decision = 'allowed' AND action = ANY($2)
          ORDER BY seq DESC LIMIT $3`,
        [subject, ACCESS_ACTIONS, Math.min(limit, 5000)],
      );
    const distinct = (values: Array<string | null>) => [...new Set(values.filter((v): v is string => v !== null))];
    const names = await this.names.namesOf({
      members: distinct(rows.map((r) => r.member_id)),
      sources: distinct(rows.map((r) => r.source_id)),
      matters: distinct(rows.map((r) => r.purpose)),
    });
    return rows.map((r) => ({
      at: r.at.toISOString(),
      organisation: { id: r.member_id, name: names.members.get(r.member_id) ?? r.member_id },
      source: { id: r.source_id, title: names.sources.get(r.source_id) ?? null },
      matter: { code: r.purpose, title: r.purpose === null ? null : (names.matters.get(r.purpose) ?? null) },
      caseId: r.case_id,
      fields: r.fields,
    }));
  }
}
