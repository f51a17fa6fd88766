// The replica adapter reads what a department pushed, as the application role, by primary key.
import { dataSourceOptions } from '@datarun/db';
import { ReplicaSourceAdapter, SourceAdapters, FederatedSourceAdapter, type SourceDescriptor } from '@datarun/sources';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

const SUBJECT = '330825198805120020';
const RECORD = { idNumber: SUBJECT, name: '周雨涵', maritalStatus: 'unmarried' };

const marriage: SourceDescriptor = {
  id: 'marriage-replica',
  owner: 'zj.quzhou.civil-affairs',
  mode: 'replica',
  endpoint: null,
  subjectKey: 'idNumber',
  schemaVersion: 3,
  validate: () => ({ ok: true }),
};

describe('ReplicaSourceAdapter', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let adapter: ReplicaSourceAdapter;

  beforeAll(async () => {
    db = await migratedDatabase();
    await db.ownerQuery(`INSERT INTO member (id, name, kind, jwks) VALUES ('zj.quzhou.civil-affairs', '衢州市民政局', 'department', '{"keys": []}')`);
    await db.ownerQuery(
      `INSERT INTO source (id, title, owner_id, subject_key, mode, endpoint, current_version) VALUES ($1, '婚姻', 'zj.quzhou.civil-affairs', 'idNumber', 'replica', NULL, 3)`,
      [marriage.id],
    );
    await db.ownerQuery(
      `INSERT INTO source_record (source_id, subject_key, data, schema_version, updated_at) VALUES ($1, $2, $3, 2, '2026-05-01T08:30:00+08:00')`,
      [marriage.id, SUBJECT, JSON.stringify(RECORD)],
    );
    dataSource = await new DataSource(dataSourceOptions(db.config.database, 'app')).initialize();
    adapter = new ReplicaSourceAdapter(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('reads a pushed record with the version it was stored under and when it changed', async () => {
    const before = Date.now();
    const fetched = await adapter.fetch(marriage, SUBJECT);
    expect(fetched).not.toBeNull();
    expect(fetched!.data).toEqual(RECORD);
    expect(fetched!.schemaVersion).toBe(2);
    expect(fetched!.asOf).toEqual(new Date('2026-05-01T00:30:00Z'));
    expect(fetched!.retrievedAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('answers null for a subject without a record, and for another source', async () => {
    await expect(adapter.fetch(marriage, '330825199001011237')).resolves.toBeNull();
    await expect(adapter.fetch({ ...marriage, id: 'household' }, SUBJECT)).resolves.toBeNull();
  });

  it('is what SourceAdapters picks for a replica source', async () => {
    const adapters = new SourceAdapters(new FederatedSourceAdapter(), adapter);
    await expect(adapters.fetch(marriage, SUBJECT)).resolves.toMatchObject({ data: RECORD, schemaVersion: 2 });
  });
});
