import type { Caller, DemoMemberKeys } from '@datarun/auth';
import { Problem } from '@datarun/problems';
import type { GrantsService } from './grants/grants.service.js';
import type { MattersService } from './matters/matters.service.js';
import type { MembersService } from './members/members.service.js';
import type { Classification } from './sources/source.entity.js';
import type { SourcesService } from './sources/sources.service.js';

/** A built-in source as it is kept in schemas/records: nothing special, just seeded. */
export interface BuiltInSource {
  readonly id: string;
  readonly title: string;
  readonly schema: object;
  readonly classification: Record<string, Classification>;
  readonly owner: string;
}

/**
 * 不动产转移登记: the matter whose completion moves the utilities to the buyer: water, electricity
 * and gas always; cable (广电) and broadband only when the case names an account for them.
 */
export const PROPERTY_TRANSFER = {
  code: 'property-transfer',
  title: '不动产转移登记',
  evidence: ['property', 'household', 'marriage'],
  materials: ['transfer-contract', 'property-certificate', 'id-card'],
  onComplete: [
    ...['water', 'electricity', 'gas'].map((notify) => ({ notify, request: 'transfer' as const, materials: ['property-certificate'], holderRole: 'buyer' })),
    ...['cable', 'broadband'].map((notify) => ({
      notify,
      request: 'transfer' as const,
      materials: ['property-certificate'],
      holderRole: 'buyer',
      optional: true,
    })),
  ],
};

/**
 * 最低生活保障 (低保): once granted, six units act on it without the applicant visiting each (the
 * seed story): 人社 subsidises the pension insurance (and needs the full ID number for it), 教育
 * grants education aid, 残联 the disability subsidy, and the power, water and cable companies
 * apply their discounts. Pure registry data: no code knows this matter.
 */
export const SUBSISTENCE_ALLOWANCE = {
  code: 'subsistence-allowance',
  title: '最低生活保障审批',
  evidence: ['household', 'social-security'],
  materials: ['allowance-decision', 'id-card'],
  onComplete: [
    { notify: 'zj.demo.renshe', request: 'benefit' as const, benefit: 'pension-insurance-subsidy', fields: ['idNumber'] },
    { notify: 'zj.demo.jiaoyu', request: 'benefit' as const, benefit: 'education-aid' },
    { notify: 'zj.demo.canlian', request: 'benefit' as const, benefit: 'disability-subsidy' },
    { notify: 'electricity', request: 'discount' as const },
    { notify: 'water', request: 'discount' as const },
    { notify: 'cable', request: 'discount' as const },
  ].map((n) => ({ ...n, materials: ['allowance-decision'], holderRole: 'applicant' })),
};

export interface RegistryServices {
  readonly members: MembersService;
  readonly sources: SourcesService;
  readonly matters: MattersService;
  readonly grants: GrantsService;
}

const as = (memberId: string, role: Caller['role']): Caller => ({ memberId, role, actor: 'seed' });

/**
 * The demo city of `npm start`: demo members with their development keys and recipient settings
 * (a webhook recipient's endpoint is the sandbox's `<sandboxUrl>/v1/webhooks/<member id>`), the
 * four built-in sources owned by their departments, the property-transfer and
 * subsistence-allowance matters, and the service hall's grants for them, approved by each owner.
 * Idempotent: what exists is left alone, except that a demo member's recipient settings and a
 * demo matter's notifications are made the seed's (a database from before recipients were members).
 */
export async function seedDemoRegistry(
  services: RegistryServices,
  members: readonly DemoMemberKeys[],
  builtIns: readonly BuiltInSource[],
  sandboxUrl: string,
): Promise<string[]> {
  const done: string[] = [];
  for (const m of members) await services.members.ensure(m.id, m.name, m.kind, m.jwks);
  done.push(`${members.length} demo members`);
  for (const m of members) {
    if (!m.receives) continue;
    const endpoint = m.receives.delivery === 'webhook' ? { endpoint: `${sandboxUrl.replace(/\/+$/, '')}/v1/webhooks/${m.id}` } : {};
    if (await services.members.ensureRecipient(m.id, { ...m.receives, ...endpoint })) done.push(`recipient ${m.id} (${m.receives.delivery})`);
  }

  for (const s of builtIns) {
    const created = await ignoreExisting(() =>
      services.sources.register(as(s.owner, 'department'), {
        id: s.id,
        title: s.title,
        schema: s.schema,
        subjectKey: 'idNumber',
        classification: s.classification,
        mode: 'replica',
      }),
    );
    if (created) done.push(`source ${s.id} (owner ${s.owner})`);
  }

  for (const matter of [PROPERTY_TRANSFER, SUBSISTENCE_ALLOWANCE]) {
    const outcome = await services.matters.ensure(matter);
    if (outcome !== 'unchanged') done.push(`matter ${matter.code}${outcome === 'updated' ? ' (notifications updated)' : ''}`);
  }

  const hall = members.find((m) => m.kind === 'consumer');
  if (hall) {
    const existing = await services.grants.list(as(hall.id, 'consumer'), { state: 'approved' });
    const matters = [PROPERTY_TRANSFER, SUBSISTENCE_ALLOWANCE];
    for (const s of builtIns.filter((b) => matters.some((m) => m.evidence.includes(b.id)))) {
      if (existing.some((g) => g.source === s.id)) continue;
      const { compiled } = await services.sources.currentSchema(s.id);
      const grant = await services.grants.request(as(hall.id, 'consumer'), {
        source: s.id,
        fields: compiled.fields.filter((f) => s.classification[f] !== 'secret'),
        purposes: matters.filter((m) => m.evidence.includes(s.id)).map((m) => m.code),
        validUntil: new Date(Date.now() + 365 * 86400_000).toISOString(),
        reason: '一窗受理不动产转移登记与低保审批，免交纸质证明',
      });
      await services.grants.decide(as(s.owner, 'department'), grant.id, 'approve', 'demo');
      done.push(`grant ${hall.id} → ${s.id}`);
    }
  }
  return done;
}

/**
 * Pushes synthetic records into replica sources through the ordinary ingest, as their owning
 * department, in batches; a source that already holds records is left alone. Returns what it stored.
 */
export async function loadRecords(
  sources: SourcesService,
  owner: (sourceId: string) => string,
  streams: Record<string, Iterable<unknown>>,
  batchSize = 1000,
): Promise<Record<string, number>> {
  const stored: Record<string, number> = {};
  for (const [sourceId, records] of Object.entries(streams)) {
    if (await sources.hasRecords(sourceId)) continue;
    const caller = as(owner(sourceId), 'department');
    let batch: unknown[] = [];
    let total = 0;
    const flush = async () => {
      const result = await sources.ingest(caller, sourceId, batch);
      if (result.rejected.length)
        throw new Error(`${result.rejected.length} synthetic ${sourceId} record(s) rejected, e.g. ${JSON.stringify(result.rejected[0].errors)}`);
      total += result.stored;
      batch = [];
    };
    for (const record of records) {
      batch.push(record);
      if (batch.length === batchSize) await flush();
    }
    if (batch.length) await flush();
    stored[sourceId] = total;
  }
  return stored;
}

async function ignoreExisting<T>(create: () => Promise<T>): Promise<T | undefined> {
  try {
    return await create();
  } catch (error) {
    if (error instanceof Problem && error.code === 'ALREADY_EXISTS') return undefined;
    throw error;
  }
}
