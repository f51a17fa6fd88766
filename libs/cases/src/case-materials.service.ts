import { createHash, randomUUID } from 'node:crypto';
import { type AuditEventInput, AuditLog, changeBy, refuseAudited, SubjectPseudonyms } from '@datarun/audit';
import { type Caller, requireRole } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import { APPLIED_MATERIAL_MAX_BYTES, CaseTransfers, disclosedParties, MaterialLinks } from '@datarun/transfers';
import { Injectable } from '@nestjs/common';
import { fileTypeFromBuffer } from 'file-type';
import { DataSource } from 'typeorm';
import { type CaseParty, isActive } from './case.entity.js';
import { CasesService } from './cases.service.js';

/** What a service hall uploads: scans and photos of paper documents (docs/api.md: PDF or image). */
export const MATERIAL_MEDIA_TYPES = ['application/pdf', 'image/jpeg', 'image/png', 'image/tiff', 'image/webp'] as const;
/** The largest material: the one bound the upload and every connector that fetches it apply. */
export const MAX_MATERIAL_BYTES = APPLIED_MATERIAL_MAX_BYTES;

export interface MaterialUpload {
  readonly type: string;
  readonly sha256: string;
  readonly size: number;
  readonly contentType: string;
  readonly uploadedAt: string;
}

export interface MaterialBytes {
  readonly bytes: Buffer;
  readonly contentType: string;
  readonly sha256: string;
  readonly type: string;
}

/**
 * The bytes must be what their content-type says, by their magic numbers (file-type reads the
 * signatures: `%PDF-`, PNG's, JPEG's SOI, TIFF's byte order, RIFF/WEBP): an HTML page or a script
 * uploaded as `image/png` would otherwise be stored and handed to recipients as a picture.
 */
async function requireContentOf(media: string, bytes: Buffer): Promise<void> {
  const found = await fileTypeFromBuffer(bytes);
  if (found?.mime !== media) {
    throw new Problem(
      'MATERIAL_TYPE_MISMATCH',
      `the bytes are ${found ? `${found.mime}` : 'of no media type a material may have'}, not the ${media} they were uploaded as`,
    );
  }
}

/**
 * Materials are uploaded once at the window and travel to utilities as claim checks: Kafka carries
 * a signed, expiring link and the hash; the bytes stay in PostgreSQL until a recipient fetches them.
 */
@Injectable()
export class CaseMaterials {
  constructor(
    private readonly dataSource: DataSource,
    private readonly cases: CasesService,
    private readonly audit: AuditLog,
    private readonly links: MaterialLinks,
    private readonly transfers: CaseTransfers,
    private readonly pseudonyms: SubjectPseudonyms,
  ) {}

  /**
   * Stores one declared material of an open case after checking its bytes against the SHA-256
   * declared when the case was opened. Uploading the same bytes again answers the same; different
   * bytes for a type already uploaded are refused (the declaration is what the citizen signed).
   */
  async upload(caller: Caller, caseId: string, type: string, contentType: string | undefined, bytes: unknown): Promise<MaterialUpload> {
    requireRole(caller, 'consumer');
    const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!(MATERIAL_MEDIA_TYPES as readonly string[]).includes(media) || !Buffer.isBuffer(bytes)) {
      throw new Problem('UNSUPPORTED_MEDIA_TYPE', `a material is uploaded as raw bytes with content-type ${MATERIAL_MEDIA_TYPES.join(', ')}`);
    }
    if (bytes.length === 0) throw new Problem('VALIDATION_FAILED', 'the material is empty');
    if (bytes.length > MAX_MATERIAL_BYTES) throw new Problem('PAYLOAD_TOO_LARGE', `a material is at most ${MAX_MATERIAL_BYTES} bytes`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.dataSource.transaction(async (em) => {
      const found = await this.cases.lockOwned(em, caller, caseId, 'material.uploaded');
      if (!isActive(found.state)) throw new Problem('STATE_CONFLICT', `case ${caseId} is ${found.state}; materials are uploaded while it is open`);
      // A material the case opened without (容缺受理) is declared by its upload: the bytes' hash becomes its declaration.
      const declared = found.materials.find((m) => m.type === type) ?? (found.deferred.some((d) => d.type === type) ? { type, sha256 } : undefined);
      if (!declared) throw new Problem('MATERIAL_NOT_FOUND', `case ${caseId} declared no material ${type}`);
      if (declared.sha256 !== sha256)
        throw new Problem('MATERIAL_HASH_MISMATCH', `the uploaded ${type} has SHA-256 ${sha256}, the case declared ${declared.sha256}`);
      // After the declaration's checks, so a forgery is named as one; before anything is stored.
      await requireContentOf(media, bytes);
      const [existing] = await em.query<Array<{ content_type: string; uploaded_at: Date }>>(
        'SELECT content_type, uploaded_at FROM case_material WHERE case_id = $1 AND type = $2',
        [caseId, type],
      );
      if (existing) return { type, sha256, size: bytes.length, contentType: existing.content_type, uploadedAt: existing.uploaded_at.toISOString() };
      const [row] = await em.query<Array<{ uploaded_at: Date }>>(
        `INSERT INTO case_material (id, case_id, type, sha256, content_type, size, bytes, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING uploaded_at`,
        [randomUUID(), caseId, type, sha256, media, bytes.length, bytes, caller.actor],
      );
      if (!found.materials.some((m) => m.type === type)) {
        await em.query(`UPDATE service_case SET materials = materials || $2::jsonb, updated_at = now() WHERE id = $1`, [
          caseId,
          JSON.stringify([{ type, sha256 }]),
        ]);
      }
      await this.audit.appendWithin(
        em,
        changeBy(caller, 'material.uploaded', `material:${caseId}/${type}`, {
          caseId,
          purpose: found.matterCode,
          reason: `${bytes.length} bytes, sha256 ${sha256}`,
        }),
      );
      return { type, sha256, size: bytes.length, contentType: media, uploadedAt: row.uploaded_at.toISOString() };
    });
  }

  /**
   * A recipient fetches a material through its signed link, under its own member token: the link
   * must be genuine and current, issued to the caller's member, and the request it names must route
   * this very material to that member. A link that leaked (a log, a proxy) is worth nothing
   * without the recipient's key. Each fetch is audited before the bytes leave, under the recipient
   * and for each person the request concerns, so the citizen's access log shows who fetched it.
   */
  async fetch(caller: Caller, materialId: string, query: Readonly<Record<string, unknown>>): Promise<MaterialBytes> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(materialId))
      throw new Problem('LINK_INVALID', 'this material link is not valid');
    const claims = this.links.check(materialId, query);
    if (claims.recipient !== caller.memberId) {
      return refuseAudited(
        this.audit,
        { caller, action: 'material.fetched', object: `transfer:${claims.requestId}`, scope: 'any' },
        new Problem('LINK_INVALID', `this material link was issued to another recipient, not to ${caller.memberId}`),
      );
    }
    // The request the link names must route this very material to its recipient (the outbox's word),
    // and the material must be of that request's case.
    const routed = await this.transfers.routing(claims.requestId, claims.recipient, materialId);
    const [row] =
      routed === undefined
        ? []
        : await this.dataSource.query<
            Array<{ case_id: string; type: string; sha256: string; content_type: string; bytes: Buffer; matter_code: string; parties: CaseParty[] }>
          >(
            `SELECT m.case_id, m.type, m.sha256, m.content_type, m.bytes, c.matter_code, c.parties
               FROM case_material m JOIN service_case c ON c.id = m.case_id
              WHERE m.id = $1 AND m.case_id = $2`,
            [materialId, routed.caseId],
          );
    if (!row || !routed) throw new Problem('MATERIAL_NOT_FOUND', 'no such material for this request');
    const event: AuditEventInput = {
      memberId: caller.memberId,
      actor: caller.actor,
      action: 'material.fetched',
      decision: 'allowed',
      object: `transfer:${claims.requestId}`,
      caseId: row.case_id,
      purpose: row.matter_code,
      fields: [row.type],
    };
    const subjects = [...new Set(disclosedParties(routed.payload, row.parties).map((p) => this.pseudonyms.of(p.idNumber)))];
    const events = subjects.length === 0 ? [event] : subjects.map((subjectHash) => ({ ...event, subjectHash }));
    await Promise.all(events.map((e) => this.audit.append(e)));
    return { bytes: row.bytes, contentType: row.content_type, sha256: row.sha256, type: row.type };
  }
}
