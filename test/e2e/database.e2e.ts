// Migrations run as the owner; the application role reads and writes through TypeORM.
import { dataSourceOptions, MIGRATIONS, TABLE_OWNERS } from '@datarun/db';
import { AUDIT_ENTITIES } from '@datarun/audit';
import { CASES_ENTITIES } from '@datarun/cases';
import { MemberEntity, REGISTRY_ENTITIES } from '@datarun/registry';
import { SOURCES_ENTITIES } from '@datarun/sources';
import { TRANSFERS_ENTITIES } from '@datarun/transfers';
import { DataSource } from 'typeorm';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

// Every lib's entities: each table's declaration by the lib that owns it (TABLE_OWNERS).
const ENTITIES = [...REGISTRY_ENTITIES, ...SOURCES_ENTITIES, ...CASES_ENTITIES, ...TRANSFERS_ENTITIES, ...AUDIT_ENTITIES];

describe('database', () => {
  let db: TestDatabase;
  let app: DataSource;

  beforeAll(async () => {
    db = await migratedDatabase();
    app = await new DataSource(dataSourceOptions(db.config.database, 'app', ENTITIES)).initialize();
  });
  afterAll(async () => {
    await app?.destroy();
    await db?.drop();
  });

  it('recorded every migration in the schema it was given', async () => {
    const { rows } = await db.ownerQuery<{ name: string }>('SELECT name FROM typeorm_migrations ORDER BY id');
    expect(rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('writes and reads back through TypeORM as the application role', async () => {
    const [{ current_user }] = await app.query('SELECT current_user');
    expect(current_user).toBe(db.config.database.appRole);
    await app.getRepository(MemberEntity).insert({ id: 'zj.test.dept', name: '测试部门', kind: 'department', jwks: { keys: [] } });
    const back = await app.getRepository(MemberEntity).findOneByOrFail({ id: 'zj.test.dept' });
    expect(back).toMatchObject({ name: '测试部门', kind: 'department', jwks: { keys: [] } });
    expect(back.createdAt).toBeInstanceOf(Date);
  });

  it('refuses a row that breaks a table constraint', async () => {
    await expect(app.getRepository(MemberEntity).insert({ id: 'x', name: 'n', kind: 'wizard' as never, jwks: { keys: [] } })).rejects.toThrow(
      /check constraint/,
    );
  });

  it('is idempotent: a second migration run does nothing', async () => {
    const { runMigrations } = await import('@datarun/db');
    await expect(runMigrations(db.config.database)).resolves.toEqual([]);
  });

  it('lets the application role append to the audit log but never change or delete it', async () => {
    await app.query(
      `INSERT INTO audit_event (seq, id, at, member_id, actor, action, decision, canonical, chain_hash)
       VALUES (1, gen_random_uuid(), now(), 'm', 'a', 'lookup', 'allowed', '\\x00', '\\x00')`,
    );
    await expect(app.query(`UPDATE audit_event SET decision = 'denied'`)).rejects.toThrow(/permission denied/);
    await expect(app.query('DELETE FROM audit_event')).rejects.toThrow(/permission denied/);
    await expect(app.query('TRUNCATE audit_event')).rejects.toThrow(/permission denied/);
    // Nor through a partition named directly, nor the checkpoints.
    const [{ partition }] = await app.query(`SELECT tableoid::regclass::text AS partition FROM audit_event`);
    expect(partition).not.toBe('audit_event');
    await expect(app.query(`UPDATE ${partition} SET decision = 'denied'`)).rejects.toThrow(/permission denied/);
    await expect(app.query(`DELETE FROM audit_event_default`)).rejects.toThrow(/permission denied/);
    await expect(app.query('DELETE FROM audit_checkpoint')).rejects.toThrow(/permission denied/);
    const { rows } = await db.ownerQuery<{ decision: string }>('SELECT decision FROM audit_event');
    expect(rows).toEqual([{ decision: 'allowed' }]);
  });

  it('has an owner and an entity for every table the migrations make (partitions count as their table)', async () => {
    const { rows } = await db.ownerQuery<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'typeorm_migrations'
        ORDER BY 1`,
    );
    const tables = rows.map((r) => r.name);
    expect(tables).toEqual(Object.keys(TABLE_OWNERS).sort());
    expect(app.entityMetadatas.map((m) => m.tableName).sort()).toEqual(tables);
  });

  it('keeps the entities and the migrations in agreement', async () => {
    const pending = await app.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });
});
