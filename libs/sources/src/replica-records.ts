import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * The replica store's write side, the port the registry's ingest uses (HTTP and Kafka alike):
 * records already validated against the source's current schema, upserted by subject key inside
 * the caller's transaction so that they and the ingest's audit event commit together.
 */
@Injectable()
export class ReplicaRecords {
  constructor(private readonly dataSource: DataSource) {}

  /** One statement for the whole batch; a subject stored before is replaced. */
  async store(em: EntityManager, sourceId: string, schemaVersion: number, records: ReadonlyMap<string, unknown>): Promise<void> {
    await em.query(
      `INSERT INTO source_record (source_id, subject_key, data, schema_version, updated_at)
       SELECT $1, t.k, t.d, $2, now() FROM unnest($3::text[], $4::jsonb[]) AS t(k, d)
       ON CONFLICT (source_id, subject_key)
       DO UPDATE SET data = excluded.data, schema_version = excluded.schema_version, updated_at = now()`,
      [sourceId, schemaVersion, [...records.keys()], [...records.values()].map((r) => JSON.stringify(r))],
    );
  }

  async hasAny(sourceId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM source_record WHERE source_id = $1 LIMIT 1', [sourceId]);
    return rows.length > 0;
  }
}
