// Part of `npm start`: development keys, then the demo city in the registry (members, the four
// built-in sources from schemas/records, the recipients, the two demo matters, the service hall's grants).
import { readFileSync } from 'node:fs';
import { AuditModule } from '@datarun/audit';
import { AuthModule } from '@datarun/auth-guard';
import { DEMO_MEMBERS, ensureDevKeys, KeyRing, loadKeys } from '@datarun/auth';
import { requireSupportedNode, loadConfig } from '@datarun/config';
import { DbModule } from '@datarun/db';
import {
  type BuiltInSource,
  GrantsService,
  loadRecords,
  MattersService,
  MembersService,
  RegistryModule,
  seedDemoRegistry,
  SourcesService,
} from '@datarun/registry';
import { generatePopulation } from '@datarun/population';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

requireSupportedNode('seed-demo');

const config = loadConfig(process.env);
const keys = await ensureDevKeys(`${config.localDir}/keys`);
console.log(`seed: development keys in ${config.localDir}/keys (${keys.created.length} created)`);

const classification = JSON.parse(readFileSync('schemas/records/classification.json', 'utf8'));
const builtIns: BuiltInSource[] = DEMO_MEMBERS.filter((m) => m.kind === 'department' && m.domain).map((m) => {
  const schema = JSON.parse(readFileSync(`schemas/records/${m.domain}.json`, 'utf8'));
  return { id: m.domain!, title: String(schema.title), schema, classification: classification[m.domain!], owner: m.id };
});

/** The audit log's pseudonym key, for the audit module (the apps get theirs from PlatformModule). */
@Global()
@Module({ providers: [{ provide: KeyRing, useValue: loadKeys(config, { required: ['subjectHashKey'] }) }], exports: [KeyRing] })
class SeedKeys {}

@Module({
  imports: [DbModule.forRoot(config), SeedKeys, AuthModule.forRoot(config), AuditModule.forRoot(config), RegistryModule.forRoot(config)],
})
class SeedModule {}

const app = await NestFactory.createApplicationContext(SeedModule, { logger: ['error', 'warn'] });
try {
  const done = await seedDemoRegistry(
    { members: app.get(MembersService), sources: app.get(SourcesService), matters: app.get(MattersService), grants: app.get(GrantsService) },
    keys.demoMembers,
    builtIns,
    // The demo's webhook recipients are served by the sandbox (SANDBOX_WEBHOOK_MEMBERS), on the egress allowlist by default.
    `http://127.0.0.1:${config.ports.sandbox}`,
  );
  console.log(done.length > 1 ? `seed: ${done.join(', ')}` : 'seed: demo registry already in place');
  // The same synthetic city the sandbox serves as federated departments (SANDBOX_PEOPLE, SANDBOX_SEED).
  const population = generatePopulation({ people: config.sandbox.people, seed: config.sandbox.seed });
  const owners = new Map(builtIns.map((b) => [b.id, b.owner]));
  const stored = await loadRecords(app.get(SourcesService), (id) => owners.get(id)!, {
    household: population.household(),
    marriage: population.marriage(),
    'social-security': population.socialSecurity(),
    property: population.property(),
  });
  const loaded = Object.entries(stored).map(([s, n]) => `${n} ${s}`);
  console.log(
    loaded.length
      ? `seed: loaded ${loaded.join(', ')} records (${config.sandbox.people} synthetic people, seed ${config.sandbox.seed})`
      : 'seed: records already loaded',
  );
} catch (error) {
  console.error(`seed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await app.close();
}
