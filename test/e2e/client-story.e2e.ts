// A service-hall system drives the whole property-transfer story with @datarun/client, as an
// integrator would: open the case, upload the certificate, collect the evidence bundle, complete,
// and follow each utility's progress to completed through the real broker and connectors. Every
// call goes through the types generated from docs/openapi, so a contract change that breaks a
// caller breaks this test's compilation or its run.
import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ADMIN_MEMBER_ID } from '@datarun/auth';
import { createDatarunClient, DatarunProblem } from '@datarun/client';
import { eventually } from '../support/eventually.js';
import { buildTransferWorld, certificateOf, listening, sha256, transferCaseBody, type TransferWorld, UTILITIES } from '../support/transfers.js';

jest.setTimeout(120_000);

describe('the property-transfer story through @datarun/client', () => {
  let world: TransferWorld;
  let registryUrl: string;

  beforeAll(async () => {
    world = await buildTransferWorld();
    registryUrl = await listening(world.city.registry);
  });
  afterAll(async () => {
    await world?.close();
  });

  /** The service hall's system: its member key, the clerk at the window. */
  const hallSystem = () =>
    createDatarunClient(
      { gateway: world.config.transfers.gatewayPublicUrl!, registry: registryUrl },
      { member: world.city.hall.id, kid: world.city.hall.kid, privateKey: world.city.hall.privateKey, actor: 'clerk-0042' },
    );

  it('opens a case, uploads its certificate, bundles the evidence, completes, and sees every utility complete', async () => {
    const hall = hallSystem();
    const { city } = world;
    const [seller, buyer] = city.people;

    // What the hall may ask for, from the registry.
    const matters = await hall.registry.GET('/v1/matters');
    expect(matters.items.map((m) => m.code)).toContain('property-transfer');

    const certificate = certificateOf('client-story');
    const accounts = { water: 'W-client', electricity: 'E-client', gas: 'G-client' };
    const body = transferCaseBody(world, { unit: 'UNIT-client', accounts, materials: [{ type: 'property-certificate', sha256: sha256(certificate) }] });
    const opened = await hall.gateway.POST('/v1/cases', { body });
    expect(opened.state).toBe('open');

    const uploaded = await hall.gateway.PUT('/v1/cases/{id}/materials/{type}', {
      params: { path: { id: opened.id, type: 'property-certificate' } },
      body: new Blob([certificate]),
      headers: { 'content-type': 'application/pdf' },
    });
    expect(uploaded).toMatchObject({ type: 'property-certificate', sha256: sha256(certificate), size: certificate.length });

    const bundle = await hall.gateway.POST('/v1/evidence-bundles', { body: { caseId: opened.id } });
    expect(bundle.caseId).toBe(opened.id);
    // Every evidence source of the matter for both parties, each a result (these synthetic people all have records).
    expect(bundle.items.map((i) => `${i.source}/${i.role}`).sort()).toEqual(
      ['household', 'marriage', 'property'].flatMap((source) => [`${source}/buyer`, `${source}/seller`]).sort(),
    );
    for (const item of bundle.items) expect({ source: item.source, problem: item.problem }).toEqual({ source: item.source, problem: undefined });
    expect(JSON.stringify(bundle)).not.toContain(seller.idNumber); // subjects come back masked

    const completed = await hall.gateway.POST('/v1/cases/{id}/complete', { params: { path: { id: opened.id } } });
    expect(completed.state).toBe('completed');
    expect(completed.transfers.map((t) => t.utility).sort()).toEqual([...UTILITIES].sort());

    const done = await eventually('every utility completed', () => hall.gateway.GET('/v1/cases/{id}', { params: { path: { id: opened.id } } }), {
      until: (now) => now.progress.completed === UTILITIES.length,
    });
    expect(done.progress.summary).toBe('3 of 3 completed');
    for (const transfer of done.transfers) expect(transfer).toMatchObject({ state: 'completed', followUp: false, reference: expect.stringMatching(/^[WEG]-/) });

    // The utility's own system moved the account to the buyer.
    const water = (await fetch(`${world.sandboxUrl}/v1/utilities/water/accounts/${accounts.water}`).then((r) => r.json())) as { holder: { name: string } };
    expect(water.holder.name).toBe(buyer.name);
  });

  it('signs every call as the clerk, and carries the hall’s own request id into the audit log', async () => {
    const hall = hallSystem();
    const body = transferCaseBody(world, { unit: 'UNIT-client-2', accounts: { water: 'W-client-2' } });
    const opened = await hall.gateway.POST('/v1/cases', { body });
    const requestId = `hall-${randomUUID()}`;
    await hall.gateway.POST('/v1/evidence-bundles', { body: { caseId: opened.id }, headers: { 'x-request-id': requestId } });
    const rows = await world.city.auditRows(`case_id = '${opened.id}' AND action = 'bundle-item'`);
    expect(rows).toHaveLength(6); // three sources for each of the two parties
    expect(new Set(rows.map((r) => `${r.member_id}/${r.actor}/${r.correlation_id}`))).toEqual(new Set([`${world.city.hall.id}/clerk-0042/${requestId}`]));
  });

  it('turns a refusal into a DatarunProblem with its contract code, status and request id', async () => {
    const hall = hallSystem();
    const missing = await hall.gateway.GET('/v1/cases/{id}', { params: { path: { id: randomUUID() } } }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(DatarunProblem);
    expect(missing).toMatchObject({ code: 'CASE_NOT_FOUND', status: 404, requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });

    // A hall may not register matters: the registry's own refusal, through the same client.
    const refused = await hall.registry
      .POST('/v1/matters', { body: { code: 'hall-matter', title: '无权登记', evidence: [], materials: [], onComplete: [] } })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'ROLE_FORBIDDEN', status: 403 });

    // The same call as the administrator succeeds: the client carries whoever its key names.
    const admin = createDatarunClient(
      { registry: registryUrl },
      { member: ADMIN_MEMBER_ID, kid: world.city.admin.kid, privateKey: world.city.admin.privateKey },
    );
    const registered = await admin.registry.POST('/v1/matters', {
      body: { code: 'client-matter', title: '客户端登记', evidence: [], materials: [], onComplete: [] },
    });
    expect(registered.code).toBe('client-matter');
  });
});
