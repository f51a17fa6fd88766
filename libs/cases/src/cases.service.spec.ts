import type { Caller } from '@datarun/auth';
import { loadConfig } from '@datarun/config';
import type { RegistryNames } from '@datarun/registry';
import type { CaseTransfer } from '@datarun/transfers';
import type { DataSource } from 'typeorm';
import type { CaseEntity } from './case.entity.js';
import { CasesService } from './cases.service.js';

const CASE_ID = '0f6f3c1e-8a51-4b0e-9a52-0d1c7d0c5a10';
const at = new Date('2026-12-01T08:00:00Z');

const transfer = (utility: string | null, recipient: string | null, request: CaseTransfer['request'], state: CaseTransfer['state']): CaseTransfer => ({
  requestId: `${recipient ?? utility}-${request}`,
  utility,
  recipient,
  request,
  benefit: request === 'benefit' ? 'education-aid' : null,
  state,
  reference: state === 'completed' ? 'R-1' : null,
  reason: null,
  updatedAt: new Date(),
  publishedAt: at,
  createdAt: at,
});

/** The service over stubs: a case of the caller's with `transfers`, and a registry that knows `registered`. */
function serviceWith(transfers: CaseTransfer[], registered: Record<string, string>) {
  const config = loadConfig({});
  const found = {
    id: CASE_ID,
    consumerId: 'zj.hall',
    matterCode: 'property-transfer',
    state: transfers.length ? 'completed' : 'open',
    parties: [],
    property: null,
    utilityAccounts: null,
    materials: [],
    openedBy: 'clerk-1',
    createdAt: at,
    updatedAt: at,
    closedAt: null,
  } as unknown as CaseEntity;
  const dataSource = {
    getRepository: () => ({ findOneBy: async () => found }),
    query: async () => [],
  } as unknown as DataSource;
  const asked: string[][] = [];
  const names = {
    membersNamed: async (ids: readonly string[]) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => id in registered).map((id) => [id, registered[id]]));
    },
  } as unknown as RegistryNames;
  const service = new CasesService(
    dataSource,
    {} as never,
    {} as never,
    { ofCase: async () => transfers } as never,
    {} as never,
    names,
    {} as never,
    {} as never,
    { ofCase: async () => [] } as never,
    config,
  );
  return { service, asked };
}

const caller = { memberId: 'zj.hall', kind: 'consumer', actor: 'clerk-1' } as unknown as Caller;

describe('a case names the recipient of each request', () => {
  it('names each request’s member with its registered name, asking the registry once for the distinct members', async () => {
    const { service, asked } = serviceWith(
      [
        transfer('water', 'zj.city.water', 'transfer', 'completed'),
        transfer('electricity', 'zj.city.power', 'transfer', 'completed'),
        transfer('gas', 'zj.city.power', 'discount', 'accepted'),
        transfer(null, 'zj.city.jiaoyu', 'benefit', 'completed'),
      ],
      { 'zj.city.water': '测试市自来水公司', 'zj.city.power': '测试市能源公司', 'zj.city.jiaoyu': '测试市教育局' },
    );
    const view = await service.get(caller, CASE_ID);
    expect(view.transfers.map((t) => ({ utility: t.utility, recipient: t.recipient, request: t.request, benefit: t.benefit, state: t.state }))).toEqual([
      { utility: 'water', recipient: { id: 'zj.city.water', name: '测试市自来水公司' }, request: 'transfer', benefit: undefined, state: 'completed' },
      { utility: 'electricity', recipient: { id: 'zj.city.power', name: '测试市能源公司' }, request: 'transfer', benefit: undefined, state: 'completed' },
      { utility: 'gas', recipient: { id: 'zj.city.power', name: '测试市能源公司' }, request: 'discount', benefit: undefined, state: 'accepted' },
      { utility: null, recipient: { id: 'zj.city.jiaoyu', name: '测试市教育局' }, request: 'benefit', benefit: 'education-aid', state: 'completed' },
    ]);
    expect(asked).toEqual([['zj.city.water', 'zj.city.power', 'zj.city.jiaoyu']]);
    expect(view.progress.summary).toBe('3 of 4 completed');
  });

  it('shows null for a request written before recipients were registered, and the id for a member the registry does not name', async () => {
    const { service } = serviceWith([transfer('heating', null, 'transfer', 'published'), transfer('cable', 'zj.city.cable', 'transfer', 'published')], {});
    const view = await service.get(caller, CASE_ID);
    expect(view.transfers.map((t) => t.recipient)).toEqual([null, { id: 'zj.city.cable', name: 'zj.city.cable' }]);
  });

  it('asks the registry nothing for a case with no requests', async () => {
    const { service, asked } = serviceWith([], {});
    expect((await service.get(caller, CASE_ID)).transfers).toEqual([]);
    expect(asked).toEqual([]);
  });
});
