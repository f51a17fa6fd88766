import { Injectable } from '@nestjs/common';
import { poolOf, type PreparedStatement, runPrepared } from '@datarun/db';
import { DataSource } from 'typeorm';
import type { FetchedRecord, SourceAdapter, SourceDescriptor } from './source-adapter.js';

interface RecordRow {
  data: Record<string, unknown>;
  updated_at: Date;
  schema_version: number;
}

// By primary key (source_id, subject_key): one index probe on the lookup hot path, prepared once per connection.
const READ_RECORD: PreparedStatement = {
  name: 'datarun_replica_record',
  text: 'SELECT data, updated_at, schema_version FROM source_record WHERE source_id = $1 AND subject_key = $2',
};

/**
 * Reads the records a department pushed (数据归集). They were validated against the schema version
 * current at ingest, which the row keeps; compatible schema versions keep them valid.
 */
@Injectable()
export class ReplicaSourceAdapter implements SourceAdapter {
  constructor(private readonly dataSource: DataSource) {}

  async fetch(source: SourceDescriptor, subject: string): Promise<FetchedRecord | null> {
    const rows = await runPrepared<RecordRow>(poolOf(this.dataSource), READ_RECORD, [source.id, subject]);
    const row = rows[0];
    if (!row) return null;
    return { data: row.data, retrievedAt: new Date(), asOf: new Date(row.updated_at), schemaVersion: Number(row.schema_version) };
  }
}
