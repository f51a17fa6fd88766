import { Injectable } from '@nestjs/common';
import { poolOf, type PreparedStatement, runPrepared } from '@datarun/db';
import { DataSource } from 'typeorm';
import type { FetchContext, FetchedRecord, ReplicaRow, SourceAdapter, SourceDescriptor } from './source-adapter.js';

/** One subject's record by primary key (source_id, subject_key): one index probe. The arguments are SQL expressions. */
const recordSql = (sourceId: string, subjectKey: string) =>
  `SELECT data, updated_at, schema_version FROM source_record WHERE source_id = ${sourceId} AND subject_key = ${subjectKey}`;

// Prepared once per connection.
const READ_RECORD: PreparedStatement = { name: 'datarun_replica_record', text: recordSql('$1', '$2') };

/**
 * The replica record of one subject as a scalar subquery (JSON, or NULL when there is none), for a
 * statement of another lib to read it in the same round trip as its own facts (the lookup's). The
 * arguments are SQL expressions, typically parameters.
 */
export function replicaRecordSql(sourceId: string, subjectKey: string): string {
  return `SELECT row_to_json(r) FROM (${recordSql(sourceId, subjectKey)}) r`;
}

/**
 * Reads the records a department pushed (数据归集). They were validated against the schema version
 * current at ingest, which the row keeps; compatible schema versions keep them valid.
 */
@Injectable()
export class ReplicaSourceAdapter implements SourceAdapter {
  constructor(private readonly dataSource: DataSource) {}

  async fetch(source: SourceDescriptor, subject: string, context?: FetchContext): Promise<FetchedRecord | null> {
    const row =
      context?.replicaRow !== undefined ? context.replicaRow : (await runPrepared<ReplicaRow>(poolOf(this.dataSource), READ_RECORD, [source.id, subject]))[0];
    if (!row) return null;
    return { data: row.data, retrievedAt: new Date(), asOf: new Date(row.updated_at), schemaVersion: Number(row.schema_version) };
  }
}
