import {
  disclosedFields,
  disclosedParties,
  effectiveDateOf,
  maskIdNumber,
  planRequests,
  type CompletingCase,
  type RoutedNotification,
} from './transfer-requests.js';

const SELLER = { idNumber: '33082519800101123X', name: '张三', role: 'seller' };
const BUYER = { idNumber: '330802199002152345', name: '李四', role: 'buyer' };
const CASE: CompletingCase = {
  id: '6f1d3a52-4a8e-4c61-9d7a-3e2b1c0d9e8f',
  matterCode: 'property-transfer',
  parties: [SELLER, BUYER],
  property: { unitNumber: 'U-1', address: '演示市 1 号' },
  utilityAccounts: { water: 'W-1', electricity: 'E-1', gas: 'G-1' },
};
const to = (kind: string) => ({ memberId: `zj.demo.${kind}`, utilityKind: kind });
const TRANSFERS: RoutedNotification[] = ['water', 'electricity', 'gas'].map((kind) => ({
  recipient: to(kind),
  request: 'transfer',
  materials: ['property-certificate'],
  holderRole: 'buyer',
}));
const CERT = { id: '0b6f2f0e-9c1d-4f7e-8a3b-2c1d0e9f8a7b', type: 'property-certificate', sha256: 'ab'.repeat(32) };
let n = 0;
const ids = { newId: () => `00000000-0000-4000-8000-00000000000${n++}`, pseudonymOf: (idNumber: string) => `pseudonym-of-${idNumber}` };

describe('planRequests', () => {
  beforeEach(() => (n = 0));

  it('plans one transfer per utility, keyed by the property unit, with the buyer masked and no seller', () => {
    const planned = planRequests(CASE, TRANSFERS, [CERT], new Date('2026-11-23T17:00:00Z'), ids);
    expect(planned.map((p) => [p.utility, p.topic, p.key])).toEqual([
      ['water', 'datarun.utility.water.transfer-requested.v1', 'U-1'],
      ['electricity', 'datarun.utility.electricity.transfer-requested.v1', 'U-1'],
      ['gas', 'datarun.utility.gas.transfer-requested.v1', 'U-1'],
    ]);
    expect(planned[0].payload).toEqual({
      requestId: planned[0].requestId,
      caseId: CASE.id,
      utility: 'water',
      recipient: 'zj.demo.water',
      request: 'transfer',
      accountNumber: 'W-1',
      effectiveDate: '2026-11-24', // 01:00 the next day in China Standard Time
      materials: [{ type: 'property-certificate', sha256: CERT.sha256, materialId: CERT.id }],
      property: { unitNumber: 'U-1', address: '演示市 1 号' },
      newHolder: { name: '李四', idNumberMasked: '330802********2345' },
    });
    expect(JSON.stringify(planned)).not.toContain(SELLER.idNumber);
    expect(new Set(planned.map((p) => p.requestId)).size).toBe(3);
  });

  it('plans discounts keyed by account number, naming the matter', () => {
    const [d] = planRequests(
      { ...CASE, matterCode: 'subsistence-allowance', property: null, parties: [{ ...BUYER, role: 'applicant' }] },
      [{ recipient: to('water'), request: 'discount', materials: [], holderRole: 'applicant' }],
      [],
      new Date(),
      ids,
    );
    expect(d).toMatchObject({
      topic: 'datarun.utility.water.discount-requested.v1',
      key: 'W-1',
      payload: { matter: 'subsistence-allowance', holder: { name: '李四' } },
    });
    expect(d.payload).not.toHaveProperty('property');
  });

  it('names everything missing at once and plans nothing', () => {
    const lacking = { ...CASE, property: null, utilityAccounts: { water: 'W-1' } };
    let thrown: unknown;
    try {
      planRequests(lacking, TRANSFERS, [], new Date(), ids);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'VALIDATION_FAILED' });
    const detail = (thrown as Error).message;
    for (const part of ['utilityAccounts.electricity', 'utilityAccounts.gas', 'property,', 'material property-certificate']) expect(detail).toContain(part);
    expect(detail).not.toContain('utilityAccounts.water');
  });

  it('refuses a holder role no party has', () => {
    expect(() => planRequests(CASE, [{ ...TRANSFERS[0], holderRole: 'heir' }], [CERT], new Date(), ids)).toThrow(/a party with role heir/);
  });

  it('leaves out an optional notification whose account the case does not name, and sends it when the case names one', () => {
    const cable = { recipient: to('cable'), request: 'transfer' as const, materials: [], holderRole: 'buyer', optional: true };
    expect(planRequests(CASE, [cable], [], new Date(), ids)).toEqual([]);
    const [p] = planRequests({ ...CASE, utilityAccounts: { cable: 'C-1' } }, [cable], [], new Date(), ids);
    expect(p).toMatchObject({ recipient: 'zj.demo.cable', utility: 'cable', topic: 'datarun.utility.cable.transfer-requested.v1', key: 'U-1' });
  });

  it('plans a benefit for a department on its own topic, keyed by the pseudonym, with only the fields its entry names', () => {
    const applicant = { ...BUYER, role: 'applicant' };
    const allowance = { ...CASE, matterCode: 'subsistence-allowance', property: null, parties: [applicant] };
    const completedAt = new Date('2026-11-23T17:00:00Z');
    const [renshe, jiaoyu] = planRequests(
      allowance,
      [
        {
          recipient: { memberId: 'zj.demo.renshe' },
          request: 'benefit',
          benefit: 'pension-insurance-subsidy',
          fields: ['idNumber'],
          materials: [],
          holderRole: 'applicant',
        },
        { recipient: { memberId: 'zj.demo.jiaoyu' }, request: 'benefit', benefit: 'education-aid', materials: [], holderRole: 'applicant' },
      ],
      [],
      completedAt,
      ids,
    );
    expect(renshe).toMatchObject({
      recipient: 'zj.demo.renshe',
      utility: null,
      request: 'benefit',
      benefit: 'pension-insurance-subsidy',
      topic: 'datarun.recipients.zj.demo.renshe.requested.v1',
      key: `pseudonym-of-${applicant.idNumber}`,
    });
    expect(renshe.payload).toEqual({
      requestId: renshe.requestId,
      caseId: CASE.id,
      recipient: 'zj.demo.renshe',
      request: 'benefit',
      benefit: 'pension-insurance-subsidy',
      beneficiary: { name: '李四', idNumberMasked: '330802********2345', idNumber: applicant.idNumber },
      decision: { matter: 'subsistence-allowance', decidedAt: completedAt.toISOString(), validFrom: '2026-11-24' },
      materials: [],
    });
    // Minimisation per recipient: 教育 was not given the full ID number.
    expect(JSON.stringify(jiaoyu.payload)).not.toContain(applicant.idNumber);
    expect(disclosedFields(renshe.payload)).toEqual(['benefit', 'decision', 'idNumber', 'idNumberMasked', 'materials', 'name']);
    expect(disclosedParties(jiaoyu.payload, [applicant])).toEqual([applicant]);
  });

  it('takes the first party when the matter names no holder role', () => {
    const [p] = planRequests(CASE, [{ recipient: to('water'), request: 'transfer', materials: [] }], [], new Date(), ids);
    expect(p.payload).toMatchObject({ newHolder: { name: '张三' } });
  });
});

describe('maskIdNumber and effectiveDateOf', () => {
  it('keeps the region and the last four characters only', () => {
    expect(maskIdNumber('11010519491231002X')).toBe('110105********002X');
  });
  it('books the date in China Standard Time', () => {
    expect(effectiveDateOf(new Date('2026-11-23T15:59:59Z'))).toBe('2026-11-23');
    expect(effectiveDateOf(new Date('2026-11-23T16:00:00Z'))).toBe('2026-11-24');
  });
});

describe('what a request discloses', () => {
  beforeEach(() => (n = 0));

  it("names the holder's fields and the rest of the body, not the request's identifiers", () => {
    const [transfer] = planRequests(CASE, TRANSFERS, [CERT], new Date(), ids);
    expect(disclosedFields(transfer.payload)).toEqual(['accountNumber', 'effectiveDate', 'idNumberMasked', 'materials', 'name', 'property']);
    const [discount] = planRequests(
      { ...CASE, matterCode: 'subsistence-allowance', property: null, parties: [{ ...BUYER, role: 'applicant' }] },
      [{ recipient: to('water'), request: 'discount', materials: [], holderRole: 'applicant' }],
      [],
      new Date(),
      ids,
    );
    expect(disclosedFields(discount.payload)).toEqual(['accountNumber', 'effectiveDate', 'idNumberMasked', 'materials', 'matter', 'name']);
  });

  it('names the party the request carries (the buyer of a transfer, the applicant of a discount), never the seller', () => {
    const [transfer] = planRequests(CASE, TRANSFERS, [CERT], new Date(), ids);
    expect(disclosedParties(transfer.payload, CASE.parties)).toEqual([BUYER]);
    const [first] = planRequests(CASE, [{ recipient: to('water'), request: 'transfer', materials: [] }], [], new Date(), ids);
    expect(disclosedParties(first.payload, CASE.parties)).toEqual([SELLER]);
    const applicant = { ...BUYER, role: 'applicant' };
    const [discount] = planRequests(
      { ...CASE, property: null, parties: [SELLER, applicant] },
      [{ recipient: to('water'), request: 'discount', materials: [], holderRole: 'applicant' }],
      [],
      new Date(),
      ids,
    );
    expect(disclosedParties(discount.payload, [SELLER, applicant])).toEqual([applicant]);
  });

  it('needs both the name and the masked ID number to match', () => {
    const [transfer] = planRequests(CASE, TRANSFERS, [CERT], new Date(), ids);
    expect(
      disclosedParties(transfer.payload, [
        { ...BUYER, name: '李五' },
        { ...BUYER, idNumber: '330802199002150000' },
      ]),
    ).toEqual([]);
    expect(disclosedParties({ requestId: 'x' }, CASE.parties)).toEqual([]);
  });
});
