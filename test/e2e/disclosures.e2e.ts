// The citizen sees every disclosure (issue 16, item 6): after a property transfer reaches 3 of 3
// completed through the real broker, the buyer's access log shows the request each utility member
// received (its registered name, the fields the request carried) and the certificate each fetched;
// the seller, whose data no request carried, sees none of it; an auditor's subject search finds it.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { mintToken } from '@datarun/auth';
import { PROPERTY_TRANSFER, SUBSISTENCE_ALLOWANCE } from '@datarun/registry';
import { AuditAppModule } from '../../apps/audit/src/app.module.js';
import { bootApp, type TestApp } from '../support/apps.js';
import { withAuditSigningKey } from '../support/audit-keys.js';
import { registerMember, type TestMember } from '../support/members.js';
import {
  buildTransferWorld,
  openAllowanceCase,
  openTransferCase,
  type TransferWorld,
  UTILITIES,
  UTILITY_NAMES,
  whenAllCompleted,
} from '../support/transfers.js';

jest.setTimeout(120_000);

interface Entry {
  kind: string;
  organisation: { id: string; name: string };
  source: unknown;
  matter: { code: string | null };
  caseId: string | null;
  requestId: string | null;
  fields: string[];
}

describe('the citizen sees every disclosure', () => {
  let world: TransferWorld;
  let audit: TestApp;
  let auditor: TestMember;
  let citizenToken: (idNumber: string) => Promise<string>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'datarun-disclosures-'));
    const idp = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'idp.pub.pem'), idp.publicKey.export({ type: 'spki', format: 'pem' }));
    citizenToken = async (idNumber) =>
      `Bearer ${await mintToken({ issuer: 'citizen-idp', kid: 'citizen-idp', privateKey: idp.privateKey, subject: idNumber })}`;
    world = await buildTransferWorld({ env: { DATARUN_CITIZEN_IDP_PUBLIC_KEY: join(dir, 'idp.pub.pem') } });
    audit = await bootApp(AuditAppModule.forRoot(withAuditSigningKey(world.config)), 'audit');
    auditor = await registerMember(world.city.registry, world.city.admin, 'auditor', 'zj.test.jiwei');
  });
  afterAll(async () => {
    await audit?.close();
    await world?.close();
  });

  const accessLog = async (idNumber: string): Promise<Entry[]> =>
    (
      await audit.http
        .get('/v1/me/access-log')
        .set('authorization', await citizenToken(idNumber))
        .expect(200)
    ).body.items;

  it('shows the buyer each request a utility member received and each certificate it fetched, the seller none', async () => {
    const { city, utilities } = world;
    const [seller, buyer] = [city.people[0], city.people[1]];
    const { caseId, accounts } = await openTransferCase(world, 'disclosed');
    await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    const done = await whenAllCompleted(world, caseId);
    expect(done.transfers).toHaveLength(UTILITIES.length);
    const requestOf = new Map(done.transfers.map((t) => [t.utility, t.requestId]));

    // What the requests really carried: the buyer as the new holder, nothing of the seller.
    for (const kind of UTILITIES) {
      const account = (await fetch(`${world.sandboxUrl}/v1/utilities/${kind}/accounts/${accounts[kind]}`).then((r) => r.json())) as {
        holder: { name: string };
      };
      expect(account.holder.name).toBe(buyer.name);
      expect(JSON.stringify(account)).not.toContain(seller.name);
    }

    const mine = (await accessLog(buyer.idNumber)).filter((e) => e.caseId === caseId);
    const entry = (kind: string, utility: (typeof UTILITIES)[number], fields: string[]) => ({
      kind,
      organisation: { id: utilities[utility].id, name: UTILITY_NAMES[utility] },
      source: null,
      matter: { code: PROPERTY_TRANSFER.code, title: PROPERTY_TRANSFER.title },
      caseId,
      requestId: requestOf.get(utility),
      fields,
    });
    const expected = UTILITIES.flatMap((kind) => [
      entry('request', kind, ['accountNumber', 'effectiveDate', 'idNumberMasked', 'materials', 'name', 'property']),
      entry('material', kind, ['property-certificate']),
    ]);
    const order = (entries: Entry[]) => [...entries].sort((a, b) => `${a.organisation.id} ${a.kind}`.localeCompare(`${b.organisation.id} ${b.kind}`));
    expect(order(mine.map((e) => ({ ...e, at: undefined })))).toEqual(order(expected as Entry[]));
    expect(JSON.stringify(mine)).not.toContain('utility:');

    // The seller's data went to no utility: nothing of this case in the seller's log.
    expect((await accessLog(seller.idNumber)).filter((e) => e.caseId === caseId)).toEqual([]);

    // The auditor's subject search finds the same disclosures, by the buyer's ID number.
    const found = (
      await audit.http
        .get('/v1/audit/events')
        .query({ subject: buyer.idNumber, caseId })
        .set('authorization', await auditor.auth('auditor-1'))
        .expect(200)
    ).body.items as Array<{ member: string; action: string; object: string; reason: string | null; fields: string[] }>;
    const requests = found.filter((i) => i.action === 'transfer.requested');
    expect(requests.map((i) => i.reason!.split(' ')[2]).sort()).toEqual(UTILITIES.map((kind) => utilities[kind].id).sort());
    expect(requests.map((i) => i.object).sort()).toEqual(UTILITIES.map((kind) => `transfer:${requestOf.get(kind)}`).sort());
    expect(
      found
        .filter((i) => i.action === 'material.fetched')
        .map((i) => i.member)
        .sort(),
    ).toEqual(UTILITIES.map((kind) => utilities[kind].id).sort());
    const sellers = (
      await audit.http
        .get('/v1/audit/events')
        .query({ subject: seller.idNumber, caseId })
        .set('authorization', await auditor.auth('auditor-1'))
        .expect(200)
    ).body.items;
    expect(sellers).toEqual([]);
  });

  it('shows a 低保 applicant the discount requests water and electricity received, with the matter they carried', async () => {
    const { city, utilities } = world;
    const applicant = city.people[2];
    const caseId = await openAllowanceCase(world, applicant, { water: 'W-dibao-disclosed', electricity: 'E-dibao-disclosed' }, 'disclosed');
    await city.gateway.http
      .post(`/v1/cases/${caseId}/complete`)
      .set('authorization', await city.hall.auth())
      .expect(200);
    expect((await whenAllCompleted(world, caseId)).transfers).toHaveLength(2);

    const entries = (await accessLog(applicant.idNumber)).filter((e) => e.caseId === caseId);
    const of = (kind: string) =>
      entries
        .filter((e) => e.kind === kind)
        .map((e) => `${e.organisation.id} ${e.matter.code} ${e.fields.join(',')}`)
        .sort();
    const recipients = (['water', 'electricity'] as const).map((kind) => utilities[kind].id);
    expect(of('request')).toEqual(
      recipients.map((id) => `${id} ${SUBSISTENCE_ALLOWANCE.code} accountNumber,effectiveDate,idNumberMasked,materials,matter,name`).sort(),
    );
    expect(of('material')).toEqual(recipients.map((id) => `${id} ${SUBSISTENCE_ALLOWANCE.code} allowance-decision`).sort());
    expect(entries).toHaveLength(4);
  });
});
