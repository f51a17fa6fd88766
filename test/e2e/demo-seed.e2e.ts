// The demo city `npm start` seeds (scripts/seed-demo.ts): its eight recipients and the two demo
// matters that notify them, idempotent, and brought up to date on a database seeded before.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_MEMBERS, type DemoMemberKeys, ensureDevKeys } from '@datarun/auth';
import {
  type BuiltInSource,
  GrantsService,
  MattersService,
  MembersService,
  PROPERTY_TRANSFER,
  RecipientDirectory,
  seedDemoRegistry,
  SourcesService,
  SUBSISTENCE_ALLOWANCE,
} from '@datarun/registry';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { migratedDatabase, type TestDatabase } from '../support/infra.js';

const classification = JSON.parse(readFileSync('schemas/records/classification.json', 'utf8'));
const BUILT_INS: BuiltInSource[] = DEMO_MEMBERS.filter((m) => m.kind === 'department' && m.domain).map((m) => {
  const schema = JSON.parse(readFileSync(`schemas/records/${m.domain}.json`, 'utf8'));
  return { id: m.domain!, title: String(schema.title), schema, classification: classification[m.domain!], owner: m.id };
});

describe('the demo seed', () => {
  let db: TestDatabase;
  let t: TestApp;
  let members: readonly DemoMemberKeys[];
  let sandboxUrl: string;
  const seed = () =>
    seedDemoRegistry(
      { members: t.app.get(MembersService), sources: t.app.get(SourcesService), matters: t.app.get(MattersService), grants: t.app.get(GrantsService) },
      members,
      BUILT_INS,
      sandboxUrl,
    );
  const audited = async (action: string) => Number((await db.ownerQuery('SELECT count(*) FROM audit_event WHERE action = $1', [action])).rows[0].count);

  beforeAll(async () => {
    db = await migratedDatabase();
    // The sandbox's address is on the allowlist of development and test (EGRESS_ALLOWLIST unset).
    sandboxUrl = `http://127.0.0.1:${db.config.ports.sandbox}`;
    t = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
    members = (await ensureDevKeys(join(mkdtempSync(join(tmpdir(), 'datarun-seed-')), 'keys'))).demoMembers;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('registers the eight recipients, then the two matters that notify them, and changes nothing when run again', async () => {
    const done = await seed();
    expect(done).toEqual(expect.arrayContaining(['matter property-transfer', 'matter subsistence-allowance', 'recipient zj.demo.canlian (webhook)']));

    const recipients = await t.app.get(RecipientDirectory).list();
    expect(recipients.map((r) => `${r.memberId} ${r.delivery} ${r.endpoint ?? '-'} ${r.utilityKind ?? '-'} ${r.requests.join(',')}`)).toEqual([
      `zj.demo.broadband webhook ${sandboxUrl}/v1/webhooks/zj.demo.broadband broadband transfer,discount`,
      `zj.demo.canlian webhook ${sandboxUrl}/v1/webhooks/zj.demo.canlian - benefit`,
      'zj.demo.electricity kafka - electricity transfer,discount',
      'zj.demo.gas kafka - gas transfer,discount',
      'zj.demo.guangdian kafka - cable transfer,discount',
      'zj.demo.jiaoyu kafka - - benefit',
      'zj.demo.renshe kafka - - benefit',
      'zj.demo.water kafka - water transfer,discount',
    ]);

    const matters = t.app.get(MattersService);
    const allowance = await matters.get(SUBSISTENCE_ALLOWANCE.code);
    expect(allowance.onComplete.map((n) => `${n.notify} ${n.request} ${n.benefit ?? '-'} [${n.fields.join(',')}]`)).toEqual([
      'zj.demo.renshe benefit pension-insurance-subsidy [idNumber]',
      'zj.demo.jiaoyu benefit education-aid []',
      'zj.demo.canlian benefit disability-subsidy []',
      'electricity discount - []',
      'water discount - []',
      'cable discount - []',
    ]);
    const transfer = await matters.get(PROPERTY_TRANSFER.code);
    expect(transfer.onComplete.map((n) => `${n.notify}${n.optional ? ' (optional)' : ''}`)).toEqual([
      'water',
      'electricity',
      'gas',
      'cable (optional)',
      'broadband (optional)',
    ]);

    const events = Number((await db.ownerQuery('SELECT count(*) FROM audit_event')).rows[0].count);
    expect(await seed()).toEqual([`${members.length} demo members`]);
    expect(Number((await db.ownerQuery('SELECT count(*) FROM audit_event')).rows[0].count)).toBe(events);
  });

  it("replaces a demo matter's notifications and a demo recipient's settings seeded before, recorded as configuration", async () => {
    // What a database seeded before recipients were members holds: the two discounts, no fields.
    const before = SUBSISTENCE_ALLOWANCE.onComplete
      .filter((n) => n.request === 'discount' && n.notify !== 'cable')
      .map(({ notify, request, materials, holderRole }) => ({ notify, request, materials, holderRole }));
    await db.ownerQuery('UPDATE matter SET on_complete = $1 WHERE code = $2', [JSON.stringify(before), SUBSISTENCE_ALLOWANCE.code]);
    await db.ownerQuery(`UPDATE recipient SET requests = '{transfer}' WHERE member_id = 'zj.demo.water'`);
    const matters = t.app.get(MattersService);
    // An entry stored without fields reads as none.
    expect((await matters.get(SUBSISTENCE_ALLOWANCE.code)).onComplete[0]).toMatchObject({ notify: 'electricity', fields: [] });

    expect(await seed()).toEqual([`${members.length} demo members`, 'recipient zj.demo.water (kafka)', 'matter subsistence-allowance (notifications updated)']);
    expect((await matters.get(SUBSISTENCE_ALLOWANCE.code)).onComplete).toHaveLength(6);
    expect((await t.app.get(RecipientDirectory).resolve('water'))?.requests).toEqual(['transfer', 'discount']);
    expect(await audited('matter.notifications-configured')).toBe(1);
    const { rows } = await db.ownerQuery(`SELECT member_id, actor, object_ref FROM audit_event WHERE action = 'matter.notifications-configured'`);
    expect(rows).toEqual([{ member_id: 'datarun', actor: 'configuration', object_ref: `matter:${SUBSISTENCE_ALLOWANCE.code}` }]);
  });
});
