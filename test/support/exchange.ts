// A small city for gateway tests: departments with the built-in sources and synthetic records,
// a service hall with approved grants for property-transfer, booted registry and gateway apps.
import { readFileSync } from 'node:fs';
import { GatewayModule } from '../../apps/gateway/src/app.module.js';
import { RegistryAppModule } from '../../apps/registry/src/app.module.js';
import { PROPERTY_TRANSFER } from '@datarun/registry';
import { generatePopulation, type PersonSummary } from '@datarun/population';
import { bootApp, type TestApp } from './apps.js';
import { migratedDatabase, type TestDatabase } from './infra.js';
import { adminKeyFile, registerMember, type TestMember, UTILITY_KINDS, UTILITY_NAMES, type UtilityKind, uniqueMemberId } from './members.js';

export const MATTER = PROPERTY_TRANSFER.code;
const CLASSIFICATION = JSON.parse(readFileSync('schemas/records/classification.json', 'utf8'));
export const schemaOf = (source: string) => JSON.parse(readFileSync(`schemas/records/${source}.json`, 'utf8'));

export interface City {
  readonly db: TestDatabase;
  readonly registry: TestApp;
  readonly gateway: TestApp;
  readonly admin: TestMember;
  readonly hall: TestMember;
  readonly otherHall: TestMember;
  readonly departments: Record<'household' | 'marriage' | 'property', TestMember>;
  /**
   * One member per utility kind, registered as that kind's recipient by Kafka (the property-transfer
   * matter notifies them): a test that runs connectors runs them as these members.
   */
  readonly utilities: Record<UtilityKind, TestMember>;
  readonly people: PersonSummary[];
  readonly grants: Record<string, string>;
  close(): Promise<void>;
  /** Rows of audit_event, newest last. */
  auditRows(where?: string): Promise<Array<Record<string, unknown>>>;
}

export async function buildCity(people = 300, env: Record<string, string> = {}): Promise<City> {
  const keys = adminKeyFile();
  const admin = keys.admin;
  const db = await migratedDatabase({ DATARUN_ADMIN_PUBLIC_KEY: keys.publicKeyPath, ...env });
  const registry = await bootApp(RegistryAppModule.forRoot(db.config), 'registry');
  const gateway = await bootApp(GatewayModule.forRoot(db.config), 'gateway');
  const departments = {
    household: await registerMember(registry, admin, 'department', 'zj.test.gongan'),
    marriage: await registerMember(registry, admin, 'department', 'zj.test.minzheng'),
    property: await registerMember(registry, admin, 'department', 'zj.test.budongchan'),
  };
  const hall = await registerMember(registry, admin, 'consumer', 'zj.test.hall');
  const utilities = {} as Record<UtilityKind, TestMember>;
  for (const kind of UTILITY_KINDS) {
    utilities[kind] = await registerMember(registry, admin, 'utility', `zj.test.${kind}`, uniqueMemberId(`zj.test.${kind}`), UTILITY_NAMES[kind], {
      delivery: 'kafka',
      requests: ['transfer', 'discount'],
      utilityKind: kind,
    });
  }
  const otherHall = await registerMember(registry, admin, 'consumer', 'zj.test.otherhall');

  const population = generatePopulation({ people, seed: 7 });
  const streams = { household: population.household(), marriage: population.marriage(), property: population.property() };
  for (const [source, dept] of Object.entries(departments)) {
    await registry.http
      .post('/v1/sources')
      .set('authorization', await dept.auth())
      .send({ id: source, title: source, schema: schemaOf(source), subjectKey: 'idNumber', classification: CLASSIFICATION[source], mode: 'replica' })
      .expect(201);
    const records = [...streams[source as keyof typeof streams]];
    const pushed = await registry.http
      .put(`/v1/sources/${source}/records`)
      .set('authorization', await dept.auth())
      .send({ records })
      .expect(200);
    if (pushed.body.rejected.length > 0) throw new Error(`synthetic ${source} records rejected: ${JSON.stringify(pushed.body.rejected[0])}`);
  }
  await registry.http
    .post('/v1/matters')
    .set('authorization', await admin.auth())
    .send(PROPERTY_TRANSFER)
    .expect(201);

  const grants: Record<string, string> = {};
  const read = {
    household: ['name', 'gender', 'householdNumber', 'address', 'phone'],
    marriage: ['name', 'maritalStatus', 'spouseName', 'spouseIdNumber'],
    property: ['name', 'properties'],
  };
  for (const [source, dept] of Object.entries(departments)) {
    const res = await registry.http
      .post('/v1/grants')
      .set('authorization', await hall.auth())
      .send({
        source,
        fields: read[source as keyof typeof read],
        verifyFields: source === 'marriage' ? ['registrationDate'] : [],
        purposes: [MATTER],
        validUntil: new Date(Date.now() + 30 * 86400_000).toISOString(),
        reason: '一窗受理不动产转移登记',
      })
      .expect(201);
    await registry.http
      .post(`/v1/grants/${res.body.id}/approve`)
      .set('authorization', await dept.auth())
      .send({})
      .expect(200);
    grants[source] = res.body.id;
  }

  return {
    db,
    registry,
    gateway,
    admin,
    hall,
    otherHall,
    departments,
    utilities,
    people: [...population.people()],
    grants,
    async close() {
      await gateway.close();
      await registry.close();
      await db.drop();
    },
    async auditRows(where = 'true') {
      return (await db.ownerQuery(`SELECT * FROM audit_event WHERE ${where} ORDER BY seq`)).rows;
    },
  };
}
