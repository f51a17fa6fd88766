// Issue "hardening", item 10: a department's schema cannot make validating one record cost more
// than linear time. Before the bounds, a source whose schema asked `uniqueItems` over objects was
// registered, and a batch with 10,000 small objects held the registry's event loop ~5 s.
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';
import { adminKeyFile, registerMember, type TestMember } from '../support/members.js';

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';
const schemaWith = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  $schema: DRAFT,
  type: 'object',
  additionalProperties: false,
  required: ['idNumber'],
  properties: { idNumber: { type: 'string', pattern: '^\\d{17}[\\dX]$' }, ...properties },
  ...extra,
});

describe('schema complexity bounds (registry)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let dept: TestMember;
  const stored = async () => Number((await db.ownerQuery('SELECT count(*) FROM source')).rows[0].count);

  beforeAll(async () => {
    const keys = adminKeyFile();
    db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath });
    t = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    dept = await registerMember(t, keys.admin, 'department', 'zj.test.schema-author');
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const register = (id: string, schema: unknown, authorization: string) =>
    t.http
      .post('/v1/sources')
      .set('authorization', authorization)
      .send({
        id,
        title: id,
        schema,
        subjectKey: 'idNumber',
        classification: Object.fromEntries(Object.keys((schema as { properties: object }).properties).map((f) => [f, 'internal'])),
        mode: 'replica',
      });

  it.each([
    [
      'uniqueItems over objects, unbounded',
      schemaWith({ pets: { type: 'array', items: { type: 'object', properties: { chip: { type: 'string' } } }, uniqueItems: true } }),
      'unique-items',
    ],
    ['a $ref back to the root', schemaWith({ guardian: { $ref: '#' } }), 'recursive-reference'],
    [
      'a $ref chain that doubles at each step',
      schemaWith(
        { note: { $ref: '#/$defs/d15' } },
        {
          $defs: Object.fromEntries(
            Array.from({ length: 16 }, (_, i) => [
              `d${i}`,
              i === 0 ? { type: 'string' } : { anyOf: [{ $ref: `#/$defs/d${i - 1}` }, { $ref: `#/$defs/d${i - 1}` }] },
            ]),
          ),
        },
      ),
      'complexity',
    ],
  ])('refuses %s: 400 SCHEMA_INVALID naming the rule, nothing stored', async (_label, schema, rule) => {
    const before = await stored();
    const res = await register(`costly-${rule}`, schema, await dept.auth()).expect(400);
    expect(res.body).toMatchObject({ code: 'SCHEMA_INVALID', rule });
    expect(await stored()).toBe(before);
  });

  it('accepts uniqueItems over declared scalars and validates a 10,000-item record with it', async () => {
    await register('pet-chips', schemaWith({ chips: { type: 'array', items: { type: 'string' }, uniqueItems: true } }), await dept.auth()).expect(201);
    const chips = Array.from({ length: 10_000 }, (_, i) => String(i).padStart(15, '0'));
    const res = await t.http
      .put('/v1/sources/pet-chips/records')
      .set('authorization', await dept.auth())
      .send({
        records: [
          { idNumber: '11010519491231002X', chips },
          { idNumber: '110105194912310021', chips: [...chips.slice(0, 3), chips[0]] },
        ],
      })
      .expect(200);
    expect(res.body.stored).toBe(1);
    expect(res.body.rejected).toEqual([expect.objectContaining({ index: 1 })]);
  });
});
