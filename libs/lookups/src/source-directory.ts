import { Problem } from '@datarun/problems';
import type { Classification } from '@datarun/access-policy';
import { SourcesService } from '@datarun/registry';
import { RecordSchemaGuard } from '@datarun/schemas';
import type { SourceDescriptor } from '@datarun/sources';
import { Injectable } from '@nestjs/common';

export interface DirectorySource extends SourceDescriptor {
  readonly title: string;
  readonly classification: Readonly<Record<string, Classification>>;
}

/**
 * Sources with their current schema compiled, for the lookup hot path, read from the registry
 * (`SourcesService.current`). Entries live a few seconds, so a new version or a new source is seen
 * by every gateway replica soon after.
 */
@Injectable()
export class SourceDirectory {
  static readonly TTL_MS = 5000;
  private readonly entries = new Map<string, { value: Promise<DirectorySource | undefined>; expires: number }>();

  constructor(
    private readonly registry: SourcesService,
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
    const r = await this.registry.current(id);
    if (!r) return undefined;
    const compiled = this.guard.compile(r.schema);
    return {
      id,
      title: r.title,
      owner: r.ownerId,
      mode: r.mode,
      endpoint: r.endpoint,
      subjectKey: r.subjectKey,
      schemaVersion: r.version,
      classification: r.classification,
      validate: (record) => compiled.validate(record),
    };
  }
}
