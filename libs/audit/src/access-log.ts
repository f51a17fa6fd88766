import { checkIdNumber } from '@datarun/identity';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ACCESS_ACTIONS } from './audit-queries.js';
import { DISCLOSURE_KINDS, recipientOfRequest, requestOfObject } from './disclosures.js';
import { SubjectPseudonyms } from './subject-pseudonym.js';

export interface AccessLogEntry {
  at: string;
  /**
   * `lookup`: the organisation read or verified a source's record of me; `request`: datarun sent
   * the organisation a request carrying my data (`fields`); `material`: the organisation fetched a
   * material of my case (`fields`: its type) through the request's link.
   */
  kind: 'lookup' | 'request' | 'material';
  /** Who read or received my data: the member, with its registered name. */
  organisation: { id: string; name: string };
  /** The source read; null for a request or a material, whose data comes from the case. */
  source: { id: string; title: string | null } | null;
  matter: { code: string | null; title: string | null };
  caseId: string | null;
  /** The request a `request` or `material` entry belongs to; null for a lookup. */
  requestId: string | null;
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

interface AccessRow {
  at: Date;
  member_id: string;
  action: string;
  source_id: string | null;
  purpose: string | null;
  case_id: string | null;
  object_ref: string | null;
  fields: string[];
  reason: string | null;
}

/**
 * The citizen's own access log: which organisation read which of my records, and which received
 * my data in a request or fetched a material of my case, when, for which matter and case (never
 * the clerk).
 */
@Injectable()
export class CitizenAccessLog {
  constructor(
    private readonly dataSource: DataSource,
    private readonly pseudonyms: SubjectPseudonyms,
    private readonly names: AuditNames,
  ) {}

  async of(idNumber: string, limit = 500): Promise<AccessLogEntry[]> {
    const subject = this.pseudonyms.of(checkIdNumber(idNumber));
    const rows: AccessRow[] = await this.dataSource.query(
      `SELECT at, member_id, action, source_id, purpose, case_id, object_ref, fields, reason
         FROM audit_event
        WHERE subject_hash = $1 AND decision = 'allowed' AND action = ANY($2)
        ORDER BY seq DESC LIMIT $3`,
      [subject, [...ACCESS_ACTIONS, ...DISCLOSURE_KINDS.keys()], Math.min(limit, 5000)],
    );
    // A request's record is the relay's: the organisation is the recipient its reason names.
    const organisationOf = (r: AccessRow) => (DISCLOSURE_KINDS.get(r.action) === 'request' ? (recipientOfRequest(r.reason) ?? r.member_id) : r.member_id);
    const distinct = (values: Array<string | null>) => [...new Set(values.filter((v): v is string => v !== null))];
    const names = await this.names.namesOf({
      members: distinct(rows.map(organisationOf)),
      sources: distinct(rows.map((r) => r.source_id)),
      matters: distinct(rows.map((r) => r.purpose)),
    });
    return rows.map((r) => {
      const kind = DISCLOSURE_KINDS.get(r.action) ?? 'lookup';
      const organisation = organisationOf(r);
      return {
        at: r.at.toISOString(),
        kind,
        organisation: { id: organisation, name: names.members.get(organisation) ?? organisation },
        source: r.source_id === null ? null : { id: r.source_id, title: names.sources.get(r.source_id) ?? null },
        matter: { code: r.purpose, title: r.purpose === null ? null : (names.matters.get(r.purpose) ?? null) },
        caseId: r.case_id,
        requestId: kind === 'lookup' ? null : requestOfObject(r.object_ref),
        fields: r.fields,
      };
    });
  }
}
