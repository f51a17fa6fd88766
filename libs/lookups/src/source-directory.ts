import { Problem } from '@datarun/problems';
import type { Classification } from '@datarun/access-policy';
import { RecordSchemaGuard } from '@datarun/schemas';
import type { SourceDescriptor } from '@datarun/sources';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DirectorySource extends SourceDescriptor {
  readonly title: string;
  readonly classification: Readonly<Record<string, Classification>>;
}

/**
 * Sources with their current schema compiled, for the lookup hot path. Entries live a few
 * seconds, so a new version or a new source is seen by every gateway replica soon after.
 */
@Injectable()
export class SourceDirectory {
  static readonly TTL_MS = 5000;
  private readonly entries = new Map<string, { value: Promise<DirectorySource | undefined>; expires: number }>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly guard: RecordSchemaGuard,
  ) {}

  async get(id: string): Promise<DirectorySource> {
    const now = Date.now();
    let entry = this.entries.get(id);
    if (!entry || entry.expires <= now) {
      entry = { value: this.load(id), expires: now + SourceDirectory.TTL_MS };
      this.entries.set(id, entry);
      entry.value.catch(() => this.entries.delete(id));
    }
    const source = await entry.value;
    if (!source) throw new Problem('SOURCE_NOT_FOUND', `no source ${id}`);
    return source;
  }

  private async load(id: string): Promise<DirectorySource | undefined> {
    const rows: Array<{
      title: string;
      owner_id: string;
      mode: 'replica' | 'federated';
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
    const compiled = this.guard.compile(r.schema);
    return {
      id,
      title: r.title,
      owner: r.owner_id,
      mode: r.mode,
      endpoint: r.endpoint,
      subjectKey: r.subject_key,
      schemaVersion: r.version,
      classification: r.classification,
      validate: (record) => compiled.validate(record),
    };
  }
}
