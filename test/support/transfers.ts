// The transfer world: a city (registry + gateway listening, for material links), the sandbox's
// simulated utilities (listening, for the connectors), a relay and one connector per utility
// member, all on one schema and one topic prefix of their own so that test files never see each
// other's events. Each connector keeps its inbox in a SQLite file of its own, which a test reads.
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayApi } from '@datarun/client';
import { connectorMember, type DatarunConfig } from '@datarun/config';
import { ConnectorInbox } from '@datarun/connector';
import { SUBSISTENCE_ALLOWANCE } from '@datarun/registry';
import type { DynamicModule } from '@nestjs/common';
import { ConnectorModule } from '../../apps/connector/src/app.module.js';
import { RelayModule } from '../../apps/relay/src/app.module.js';
import { SandboxModule } from '../../apps/sandbox/src/app.module.js';
import { bootApp, type TestApp } from './apps.js';
import { freePort } from './processes.js';
import { eventually } from './eventually.js';
import { buildCity, type City } from './exchange.js';
import { uniqueName } from './infra.js';
import { type TestMember, uniqueMemberId, type UtilityKind } from './members.js';

/** The utility kinds a property transfer always notifies, whose connectors the world runs unless told otherwise. */
export const UTILITIES = ['water', 'electricity', 'gas'] as const;

export { UTILITY_NAMES } from './members.js';

export interface TransferWorld {
  readonly city: City;
  /** The city's configuration with the gateway's and sandbox's real addresses filled in. */
  readonly config: DatarunConfig;
  readonly prefix: string;
  readonly sandbox: TestApp;
  readonly sandboxUrl: string;
  readonly relays: TestApp[];
  /** The connectors running in this process, by utility kind. */
  readonly connectors: Map<string, TestApp>;
  /** The city's utility members, by kind: each is its kind's registered recipient, receives its requests and signs its statuses. */
  readonly utilities: Record<UtilityKind, TestMember>;
  /** The configuration a kind's connector runs on: its member, key file, inbox file and the sandbox's simulated company. */
  connectorConfig(kind: string): DatarunConfig;
  /** The kind's connector's inbox, opened for reading beside the connector (close it after). */
  inboxOf(kind: string): ConnectorInbox;
  startRelay(): Promise<TestApp>;
  startConnector(kind: string): Promise<TestApp>;
  close(): Promise<void>;
}

/** Makes the app listen on a free port of 127.0.0.1 and gives its base URL, for callers that are not supertest. */
export async function listening(t: TestApp, at = 0): Promise<string> {
  await t.app.listen({ port: at, host: '127.0.0.1' });
  const { port } = t.app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Boots the world; `relay` and `connectors` say which parts run in this process (fault tests run some as child processes). */
export async function buildTransferWorld(
  options: { people?: number; relay?: boolean; connectors?: readonly string[]; env?: Record<string, string> } = {},
): Promise<TransferWorld> {
  const prefix = `${uniqueName('t')}.`;
  // The gateway's own configuration names the address it listens on, as in production: the
  // material links it issues (GET /v1/requests, a connector renewing an expired one) point at it.
  const gatewayPort = await freePort();
  const city = await buildCity(options.people ?? 40, {
    KAFKA_TOPIC_PREFIX: prefix,
    RELAY_POLL_MS: '20',
    GATEWAY_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
    ...options.env,
  });
  const gatewayUrl = await listening(city.gateway, gatewayPort);
  // Each utility is a member with a key of its own (the city registered it as its kind's recipient),
  // which its connector mints its fetch tokens and signs its statuses with: the key file it is given.
  const keys = mkdtempSync(join(tmpdir(), 'datarun-utilities-'));
  const utilities = city.utilities;
  const keyFiles = new Map<string, string>();
  for (const [kind, member] of Object.entries(utilities)) {
    const file = join(keys, `${kind}.key.pem`);
    writeFileSync(file, member.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    keyFiles.set(kind, file);
  }
  const config: DatarunConfig = { ...city.db.config, transfers: { ...city.db.config.transfers, gatewayPublicUrl: gatewayUrl } };
  const sandbox = await bootApp(SandboxModule.forRoot(config), 'sandbox');
  const sandboxUrl = await listening(sandbox);
  const relays: TestApp[] = [];
  const connectors = new Map<string, TestApp>();
  const inboxFile = (kind: string) => join(keys, `${kind}.inbox.sqlite`);
  const connectorConfig = (kind: string): DatarunConfig => {
    const member = utilities[kind as UtilityKind];
    const settings = member
      ? { id: member.id, utilityKind: kind, privateKey: keyFiles.get(kind)!, keyId: member.kid }
      : { id: uniqueMemberId(`zj.test.${kind}`), utilityKind: kind };
    return {
      ...config,
      connector: {
        ...config.connector,
        member: connectorMember(config, { ...settings, systemUrl: `${sandboxUrl}/v1/utilities/${kind}`, inbox: inboxFile(kind) }),
      },
    };
  };
  const boot = (module: DynamicModule, name: string) => bootApp(module, name);
  const world: TransferWorld = {
    city,
    config,
    prefix,
    sandbox,
    sandboxUrl,
    relays,
    connectors,
    utilities,
    connectorConfig,
    inboxOf: (kind) => new ConnectorInbox(inboxFile(kind)),
    async startRelay() {
      const relay = await boot(RelayModule.forRoot(config), 'relay');
      relays.push(relay);
      return relay;
    },
    async startConnector(kind: string) {
      const connector = await boot(ConnectorModule.forRoot(connectorConfig(kind)), `connector-${kind}`);
      connectors.set(kind, connector);
      return connector;
    },
    async close() {
      await Promise.allSettled([...connectors.values()].map((c) => c.close()));
      await Promise.allSettled(relays.map((r) => r.close()));
      await sandbox.close();
      await city.close();
    },
  };
  if (options.relay ?? true) await world.startRelay();
  for (const kind of options.connectors ?? UTILITIES) await world.startConnector(kind);
  return world;
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A fake scanned certificate: a few bytes of PDF that differ per case. */
export function certificateOf(label: string): Buffer {
  return Buffer.from(`%PDF-1.7\n% 不动产权证书 ${label}\n%%EOF\n`, 'utf8');
}

/** The body of `POST /v1/cases`, as the gateway's OpenAPI document (and so @datarun/client) types it. */
export type OpenCaseBody = GatewayApi.operations['openCase']['requestBody']['content']['application/json'];

/**
 * The body of `POST /v1/cases` for a transfer of `unit` from the city's first person to another
 * (`buyer`, an index into the city's people), with the given accounts and declared materials.
 */
export function transferCaseBody(
  world: Pick<TransferWorld, 'city'>,
  o: { unit: string; accounts: Record<string, string>; matter?: string; materials?: Array<{ type: string; sha256: string }>; buyer?: number; address?: string },
): OpenCaseBody {
  const [seller, buyer] = [world.city.people[0], world.city.people[o.buyer ?? 1]];
  return {
    matter: o.matter ?? 'property-transfer',
    parties: [
      { idNumber: seller.idNumber, name: seller.name, role: 'seller' },
      { idNumber: buyer.idNumber, name: buyer.name, role: 'buyer' },
    ],
    property: { unitNumber: o.unit, address: o.address ?? `演示市 ${o.unit} 号` },
    utilityAccounts: o.accounts,
    materials: o.materials ?? [],
  };
}

/**
 * Opens a property-transfer case from seller to buyer of `unit`, uploads its certificate and
 * returns its id (not completed yet). By default under `property-transfer` with an account of each
 * of the three utility kinds; `o` may name another matter, the accounts and the buyer.
 */
export async function openTransferCase(
  world: TransferWorld,
  label: string,
  unit = `UNIT-${label}`,
  o: { matter?: string; accounts?: Record<string, string>; buyer?: number } = {},
): Promise<{ caseId: string; certificate: Buffer; accounts: Record<string, string> }> {
  const { city } = world;
  const certificate = certificateOf(label);
  const accounts = o.accounts ?? { water: `W-${label}`, electricity: `E-${label}`, gas: `G-${label}` };
  const opened = await city.gateway.http
    .post('/v1/cases')
    .set('authorization', await city.hall.auth())
    .send(
      transferCaseBody(world, {
        unit,
        accounts,
        matter: o.matter,
        buyer: o.buyer,
        materials: [{ type: 'property-certificate', sha256: sha256(certificate) }],
      }),
    )
    .expect(201);
  const caseId: string = opened.body.id;
  await city.gateway.http
    .put(`/v1/cases/${caseId}/materials/property-certificate`)
    .set('authorization', await city.hall.auth())
    .set('content-type', 'application/pdf')
    .send(certificate)
    .expect(200);
  return { caseId, certificate, accounts };
}

/** The case as its consumer (the hall) reads it, once every request it sent is completed (`3 of 3 completed`). */
export async function whenAllCompleted(
  world: Pick<TransferWorld, 'city'>,
  caseId: string,
): Promise<{ transfers: Array<{ utility: string; requestId: string }> }> {
  const { city } = world;
  return eventually(
    'every request completed',
    async () =>
      (
        await city.gateway.http
          .get(`/v1/cases/${caseId}`)
          .set('authorization', await city.hall.auth())
          .expect(200)
      ).body,
    { until: (c) => c.progress.completed === c.transfers.length && c.transfers.length > 0 },
  );
}

/**
 * Registers the 低保 matter (with the one evidence source the city has, and of its notifications the
 * water and electricity discounts: the departments it also notifies are not members of this
 * world), then opens a case of it for `applicant` with `accounts`, uploads its allowance decision
 * and returns its id (not completed).
 */
export async function openAllowanceCase(
  world: Pick<TransferWorld, 'city'>,
  applicant: { idNumber: string; name: string },
  accounts: Record<string, string>,
  label: string,
): Promise<string> {
  const { city } = world;
  await city.registry.http
    .post('/v1/matters')
    .set('authorization', await city.admin.auth())
    .send({
      ...SUBSISTENCE_ALLOWANCE,
      evidence: ['household'],
      onComplete: SUBSISTENCE_ALLOWANCE.onComplete.filter((n) => n.notify === 'water' || n.notify === 'electricity'),
    })
    .expect(201);
  const decision = Buffer.from(`%PDF-1.7 低保审批决定书 ${label}`);
  const opened = await city.gateway.http
    .post('/v1/cases')
    .set('authorization', await city.hall.auth())
    .send({
      matter: SUBSISTENCE_ALLOWANCE.code,
      parties: [{ idNumber: applicant.idNumber, name: applicant.name, role: 'applicant' }],
      utilityAccounts: accounts,
      materials: [{ type: 'allowance-decision', sha256: sha256(decision) }],
    })
    .expect(201);
  await city.gateway.http
    .put(`/v1/cases/${opened.body.id}/materials/allowance-decision`)
    .set('authorization', await city.hall.auth())
    .set('content-type', 'application/pdf')
    .send(decision)
    .expect(200);
  return opened.body.id;
}
