import { AuditLog, auditRefusals, changeBy } from '@datarun/audit';
import { type Caller, requireMember, requireRole } from '@datarun/auth';
import { EgressPolicy } from '@datarun/egress';
import { Problem } from '@datarun/problems';
import { checkCompatibility, type CompiledRecordSchema, RecordSchemaGuard } from '@datarun/schemas';
import { ReplicaRecords } from '@datarun/sources';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { CLASSIFICATIONS, type Classification, SourceEntity, type SourceMode, SourceVersionEntity } from './source.entity.js';

export interface RegisterSourceCommand {
  readonly id: string;
  readonly title: string;
  readonly schema: unknown;
  readonly subjectKey: string;
  readonly classification: Readonly<Record<string, Classification>>;
  readonly mode: SourceMode;
  readonly endpoint?: string;
}

export interface PublishVersionCommand {
  readonly schema: unknown;
  readonly classification: Readonly<Record<string, Classification>>;
}

export interface IngestResult {
  stored: number;
  rejected: Array<{ index: number; errors: Array<{ path: string; message: string }> }>;
}

export interface FieldView {
  name: string;
  type: string;
  required: boolean;
  classification: Classification;
  title?: string;
}

export interface SourceView {
  id: string;
  title: string;
  owner: string;
  subjectKey: string;
  mode: SourceMode;
  currentVersion: number;
  versions: Array<{ version: number; createdAt: string; fields: FieldView[] }>;
}

/** A source with its current version, as the lookup path's source directory caches it. */
export interface CurrentSource {
  readonly title: string;
  readonly ownerId: string;
  readonly mode: SourceMode;
  readonly endpoint: string | null;
  readonly subjectKey: string;
  readonly version: number;
  readonly schema: object;
  readonly classification: Record<string, Classification>;
}

/** The current schema of a source, compiled once per version. */
export interface CurrentSchema {
  readonly source: SourceEntity;
  readonly version: SourceVersionEntity;
  readonly compiled: CompiledRecordSchema;
}

export const SOURCE_ID = /^[a-z][a-z0-9-]{1,63}$/;
export const MAX_INGEST_BATCH = 5000;

@Injectable()
export class SourcesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly guard: RecordSchemaGuard,
    private readonly audit: AuditLog,
    private readonly replicas: ReplicaRecords,
    private readonly egress: EgressPolicy,
  ) {}

  /** A refusal of who is asking (not a department) is audited (auditRefusals); one of the schema is not. */
  register(caller: Caller, cmd: RegisterSourceCommand): Promise<SourceView> {
    const about = { caller, action: 'source.registered', object: sourceRef(cmd.id), scope: 'authority' } as const;
    return auditRefusals(this.audit, about, () => this.registerSource(caller, cmd));
  }

  private async registerSource(caller: Caller, cmd: RegisterSourceCommand): Promise<SourceView> {
    requireRole(caller, 'department');
    if (!SOURCE_ID.test(cmd.id)) throw new Problem('VALIDATION_FAILED', `id must match ${SOURCE_ID.source}`);
    const compiled = this.guard.compile(cmd.schema);
    checkSubjectKey(compiled, cmd.subjectKey);
    checkClassification(compiled, cmd.classification);
    if (cmd.mode === 'federated' && !cmd.endpoint) throw new Problem('VALIDATION_FAILED', 'a federated source needs an endpoint');
    if (cmd.endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(cmd.endpoint)) throw new Problem('VALIDATION_FAILED', 'endpoint must be an http(s) URL');
    // Only where datarun may call (EGRESS_ALLOWLIST), checked again on every call: 400 ENDPOINT_NOT_ALLOWED.
    if (cmd.endpoint !== undefined) this.egress.check(cmd.endpoint);

    await this.dataSource.transaction(async (em) => {
      if (await em.getRepository(SourceEntity).existsBy({ id: cmd.id })) throw new Problem('ALREADY_EXISTS', `source ${cmd.id} is already registered`);
      await em.getRepository(SourceEntity).insert({
        id: cmd.id,
        title: cmd.title,
        ownerId: caller.memberId,
        subjectKey: cmd.subjectKey,
        mode: cmd.mode,
        endpoint: cmd.endpoint ?? null,
        currentVersion: 1,
      });
      await em.getRepository(SourceVersionEntity).insert({
        sourceId: cmd.id,
        version: 1,
        schema: cmd.schema as object,
        classification: { ...cmd.classification },
        createdBy: caller.memberId,
      });
      await this.audit.appendWithin(em, changeBy(caller, 'source.registered', `source:${cmd.id}@1`, { sourceId: cmd.id }));
    });
    return this.view(cmd.id);
  }

  /**
   * A new schema version, refused when it would break readers of the current one or drop a field
   * an approved grant names (docs/api.md, "Schema versions").
   */
  publishVersion(caller: Caller, id: string, cmd: PublishVersionCommand): Promise<SourceView> {
    const about = { caller, action: 'source.version-published', object: sourceRef(id), scope: 'authority' } as const;
    return auditRefusals(this.audit, about, () => this.publish(caller, id, cmd));
  }

  private async publish(caller: Caller, id: string, cmd: PublishVersionCommand): Promise<SourceView> {
    requireRole(caller, 'department');
    const compiled = this.guard.compile(cmd.schema);
    checkClassification(compiled, cmd.classification);
    await this.dataSource.transaction(async (em) => {
      const source = await this.ownedSource(em, caller, id, true);
      checkSubjectKey(compiled, source.subjectKey);
      const current = await em.getRepository(SourceVersionEntity).findOneByOrFail({ sourceId: id, version: source.currentVersion });
      const granted = await grantedFields(em, id);
      const verdict = checkCompatibility(current.schema, cmd.schema, granted);
      if (!verdict.compatible) {
        throw new Problem('SCHEMA_INCOMPATIBLE', `version ${source.currentVersion + 1} would break readers of version ${source.currentVersion}`, {
          paths: verdict.problems,
        });
      }
      const next = source.currentVersion + 1;
      await em.getRepository(SourceVersionEntity).insert({
        sourceId: id,
        version: next,
        schema: cmd.schema as object,
        classification: { ...cmd.classification },
        createdBy: caller.memberId,
      });
      await em.getRepository(SourceEntity).update({ id }, { currentVersion: next });
      await this.audit.appendWithin(em, changeBy(caller, 'source.version-published', `source:${id}@${next}`, { sourceId: id }));
    });
    return this.view(id);
  }

  /**
   * Replica ingest: each record checked against the current schema; the valid ones upserted by
   * subject key in one transaction, the rest listed with their reasons. A subject repeated in a
   * batch keeps its last record.
   */
  ingest(caller: Caller, id: string, records: readonly unknown[]): Promise<IngestResult> {
    // Records about people sent into another department's source: the attempt is audited.
    const about = { caller, action: 'records.ingested', object: sourceRef(id), scope: 'authority' } as const;
    return auditRefusals(this.audit, about, () => this.ingestRecords(caller, id, records));
  }

  private async ingestRecords(caller: Caller, id: string, records: readonly unknown[]): Promise<IngestResult> {
    requireRole(caller, 'department');
    if (records.length > MAX_INGEST_BATCH) throw new Problem('VALIDATION_FAILED', `at most ${MAX_INGEST_BATCH} records per batch`);
    const { source, version, compiled } = await this.currentSchema(id);
    if (source.ownerId !== caller.memberId) throw new Problem('NOT_OWNER', `source ${id} belongs to another department`);
    if (source.mode !== 'replica') throw new Problem('STATE_CONFLICT', `source ${id} is federated: its records stay with the department`);

    const rejected: IngestResult['rejected'] = [];
    const bySubject = new Map<string, unknown>();
    records.forEach((record, index) => {
      const result = compiled.validate(record);
      if (!result.ok) return void rejected.push({ index, errors: result.errors });
      bySubject.set(String((record as Record<string, unknown>)[source.subjectKey]), record);
    });
    if (bySubject.size > 0) {
      await this.dataSource.transaction(async (em) => {
        await this.replicas.store(em, id, version.version, bySubject);
        await this.audit.appendWithin(
          em,
          changeBy(caller, 'records.ingested', `source:${id}@${version.version}`, {
            sourceId: id,
            reason: `stored ${bySubject.size}, rejected ${rejected.length}`,
          }),
        );
      });
    }
    return { stored: bySubject.size, rejected };
  }

  hasRecords(id: string): Promise<boolean> {
    return this.replicas.hasAny(id);
  }

  /** A source and its current version in one read, or undefined (the lookups' source directory caches either). */
  async current(id: string): Promise<CurrentSource | undefined> {
    const rows: Array<{
      title: string;
      owner_id: string;
      mode: SourceMode;
      endpoint: string | null;
      subject_key: string;
      version: number;
      schema: object;
      classification: Record<string, Classification>;
    }> = await this.dataSource.query(
      `SELECT s.title, s.owner_id, s.mode, s.endpoint, s.subject_key, v.version, v.schema, v.classification
         FROM source s JOIN source_version v ON v.source_id = s.id AND v.version = s.current_version
         WHERE s.id = $1`,
      [id],
    );
    if (rows.length === 0) return undefined;
    const r = rows[0];
    return {
      title: r.title,
      ownerId: r.owner_id,
      mode: r.mode,
      endpoint: r.endpoint,
      subjectKey: r.subject_key,
      version: r.version,
      schema: r.schema,
      classification: r.classification,
    };
  }

  /** The replica sources and their subject keys, in id order: the relay makes and consumes their records topics. */
  async replicaSources(): Promise<Array<{ id: string; subjectKey: string }>> {
    const sources = await this.dataSource
      .getRepository(SourceEntity)
      .find({ select: { id: true, subjectKey: true }, where: { mode: 'replica' }, order: { id: 'ASC' } });
    return sources.map((s) => ({ id: s.id, subjectKey: s.subjectKey }));
  }

  async currentSchema(id: string): Promise<CurrentSchema> {
    const source = await this.dataSource.getRepository(SourceEntity).findOneBy({ id });
    if (!source) throw new Problem('SOURCE_NOT_FOUND', `no source ${id}`);
    const version = await this.dataSource.getRepository(SourceVersionEntity).findOneByOrFail({ sourceId: id, version: source.currentVersion });
    return { source, version, compiled: this.guard.compile(version.schema) };
  }

  /** The resource catalogue (资源目录): sources, versions, fields and classifications, never data; for members only. */
  async catalog(caller: Caller): Promise<SourceView[]> {
    requireMember(caller);
    const sources = await this.dataSource.getRepository(SourceEntity).find({ order: { id: 'ASC' } });
    const versions = await this.dataSource.getRepository(SourceVersionEntity).find({ order: { sourceId: 'ASC', version: 'ASC' } });
    return sources.map((s) =>
      toView(
        s,
        versions.filter((v) => v.sourceId === s.id),
      ),
    );
  }

  /** One source of the catalogue, for members only. */
  async describe(caller: Caller, id: string): Promise<SourceView> {
    requireMember(caller);
    return this.view(id);
  }

  private async view(id: string): Promise<SourceView> {
    const source = await this.dataSource.getRepository(SourceEntity).findOneBy({ id });
    if (!source) throw new Problem('SOURCE_NOT_FOUND', `no source ${id}`);
    const versions = await this.dataSource.getRepository(SourceVersionEntity).find({ where: { sourceId: id }, order: { version: 'ASC' } });
    return toView(source, versions);
  }

  private async ownedSource(em: EntityManager, caller: Caller, id: string, lock: boolean): Promise<SourceEntity> {
    const source = await em.getRepository(SourceEntity).findOne({ where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!source) throw new Problem('SOURCE_NOT_FOUND', `no source ${id}`);
    if (source.ownerId !== caller.memberId) throw new Problem('NOT_OWNER', `source ${id} belongs to another department`);
    return source;
  }
}

/** The audit object of a source named by a caller: only a well-formed id, never arbitrary text. */
function sourceRef(id: string): string {
  return SOURCE_ID.test(id) ? `source:${id}` : 'source';
}

/** Fields (read or verify) named by grants that count now: approved and unexpired. */
async function grantedFields(em: EntityManager, sourceId: string): Promise<string[]> {
  const rows: Array<{ field: string }> = await em.query(
    `SELECT DISTINCT unnest(fields || verify_fields) AS field FROM access_grant
     WHERE source_id = $1 AND state = 'approved' AND valid_until > now()`,
    [sourceId],
  );
  return rows.map((r) => r.field);
}

function checkSubjectKey(compiled: CompiledRecordSchema, subjectKey: string): void {
  if (!compiled.required.includes(subjectKey)) {
    throw new Problem('SCHEMA_INVALID', `the subject key ${subjectKey} must be a required top-level property of the schema`);
  }
}

function checkClassification(compiled: CompiledRecordSchema, classification: Readonly<Record<string, Classification>>): void {
  const missing = compiled.fields.filter((f) => !Object.hasOwn(classification, f));
  const unknown = Object.keys(classification).filter((f) => !compiled.fields.includes(f));
  const bad = Object.entries(classification)
    .filter(([, c]) => !CLASSIFICATIONS.includes(c))
    .map(([f]) => f);
  if (missing.length || unknown.length || bad.length) {
    const parts = [
      missing.length ? `no classification for ${missing.join(', ')}` : '',
      unknown.length ? `classification names unknown fields ${unknown.join(', ')}` : '',
      bad.length ? `classification of ${bad.join(', ')} must be one of ${CLASSIFICATIONS.join('|')}` : '',
    ].filter(Boolean);
    throw new Problem('VALIDATION_FAILED', parts.join('; '));
  }
}

function toView(source: SourceEntity, versions: SourceVersionEntity[]): SourceView {
  return {
    id: source.id,
    title: source.title,
    owner: source.ownerId,
    subjectKey: source.subjectKey,
    mode: source.mode,
    currentVersion: source.currentVersion,
    versions: versions.map((v) => ({ version: v.version, createdAt: v.createdAt.toISOString(), fields: fieldsOf(v) })),
  };
}

function fieldsOf(v: SourceVersionEntity): FieldView[] {
  const schema = v.schema as { properties?: Record<string, { type?: string | string[]; title?: string }>; required?: string[] };
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  return Object.entries(properties).map(([name, p]) => ({
    name,
    type: Array.isArray(p.type) ? p.type.join('|') : (p.type ?? 'any'),
    required: required.has(name),
    classification: v.classification[name],
    ...(p.title ? { title: p.title } : {}),
  }));
}
