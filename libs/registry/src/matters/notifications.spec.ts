import type { Recipient } from '../recipients/recipient-directory.js';
import { checkRecipients, type NotificationInput, notificationsOf } from './notifications.js';

const water: Recipient = {
  memberId: 'zj.demo.water',
  name: '自来水',
  state: 'active',
  delivery: 'kafka',
  requests: ['transfer', 'discount'],
  utilityKind: 'water',
};
const renshe: Recipient = { memberId: 'zj.demo.renshe', name: '人社', state: 'active', delivery: 'kafka', requests: ['benefit'] };
const deptTakingTransfers: Recipient = { ...renshe, memberId: 'zj.demo.odd', requests: ['transfer', 'benefit'] };

const refusal = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return { code: (error as { code: string }).code, detail: (error as { detail: string }).detail };
  }
  return 'no refusal';
};

describe('notificationsOf', () => {
  it('stores an entry with its defaults: a transfer, no fields, no materials', () => {
    expect(notificationsOf([{ notify: 'water' }], [])).toEqual([{ notify: 'water', request: 'transfer', fields: [], materials: [] }]);
  });

  it('keeps a benefit code, fields once each, the holder role and optional: true (never optional: false)', () => {
    expect(
      notificationsOf(
        [
          {
            notify: 'zj.demo.renshe',
            request: 'benefit',
            benefit: 'pension-insurance-subsidy',
            fields: ['idNumber', 'idNumber', 'role'],
            holderRole: 'applicant',
          },
          { notify: 'cable', optional: true, materials: ['deed'] },
          { notify: 'gas', optional: false },
        ],
        ['deed'],
      ),
    ).toEqual([
      {
        notify: 'zj.demo.renshe',
        request: 'benefit',
        benefit: 'pension-insurance-subsidy',
        fields: ['idNumber', 'role'],
        materials: [],
        holderRole: 'applicant',
      },
      { notify: 'cable', request: 'transfer', fields: [], materials: ['deed'], optional: true },
      { notify: 'gas', request: 'transfer', fields: [], materials: [] },
    ]);
  });

  it.each<[NotificationInput, string]>([
    [{ notify: 'zj.demo.renshe', request: 'benefit' }, 'onComplete[0] is a benefit request: benefit must name the benefit'],
    [{ notify: 'zj.demo.renshe', request: 'benefit', benefit: 'Education Aid' }, 'benefit must name the benefit, matching'],
    [{ notify: 'zj.demo.renshe', request: 'benefit', benefit: 'x' }, 'benefit must name the benefit, matching'],
    [{ notify: 'water', request: 'discount', benefit: 'education-aid' }, 'only a benefit request has one (request is discount)'],
    [{ notify: 'water', request: 'refund' as never }, 'request must be one of transfer, discount, benefit'],
    [{ notify: 'water', fields: ['idNumber', 'phone'] }, 'fields may name only idNumber, role, not phone'],
    [{ notify: 'water', materials: ['passport'] }, 'names materials the matter does not collect: passport'],
  ])('refuses %p: 400 VALIDATION_FAILED', (entry, detail) => {
    expect(refusal(() => notificationsOf([entry], ['deed']))).toEqual({ code: 'VALIDATION_FAILED', detail: expect.stringContaining(detail) });
  });
});

describe('checkRecipients', () => {
  const check = (entries: NotificationInput[], recipients: Array<Recipient | undefined>) =>
    refusal(() => checkRecipients(notificationsOf(entries, []), recipients));

  it("admits a utility kind's transfer and discount, optional ones, and a department's benefits with different codes", () => {
    expect(
      check(
        [
          { notify: 'water', request: 'transfer', optional: true },
          { notify: 'water', request: 'discount' },
          { notify: 'zj.demo.renshe', request: 'benefit', benefit: 'pension-insurance-subsidy', fields: ['idNumber'] },
          { notify: 'zj.demo.renshe', request: 'benefit', benefit: 'medical-aid' },
        ],
        [water, water, renshe, renshe],
      ),
    ).toBe('no refusal');
  });

  it('refuses a name nobody receives for: 404 RECIPIENT_NOT_FOUND naming it', () => {
    expect(check([{ notify: 'water' }, { notify: 'heat' }], [water, undefined])).toEqual({
      code: 'RECIPIENT_NOT_FOUND',
      detail: expect.stringContaining('onComplete[1] notifies heat, which no member receives for'),
    });
  });

  it.each<[string, NotificationInput[], Array<Recipient | undefined>, string]>([
    ['a request the recipient does not handle', [{ notify: 'water', request: 'benefit', benefit: 'x-aid' }], [water], 'handles only transfer, discount'],
    [
      'a transfer to a recipient of no utility kind',
      [{ notify: 'zj.demo.odd' }],
      [deptTakingTransfers],
      'is a transfer request, which needs the recipient of a utility kind',
    ],
    [
      'an optional benefit to a recipient of no utility kind',
      [{ notify: 'zj.demo.renshe', request: 'benefit', benefit: 'medical-aid', optional: true }],
      [renshe],
      'is optional, which needs the recipient of a utility kind',
    ],
    [
      'the same request twice, once by kind and once by member',
      [{ notify: 'water' }, { notify: 'zj.demo.water' }],
      [water, water],
      'onComplete[1] asks zj.demo.water for the same transfer',
    ],
    [
      'the same benefit twice',
      [
        { notify: 'zj.demo.renshe', request: 'benefit', benefit: 'medical-aid' },
        { notify: 'zj.demo.renshe', request: 'benefit', benefit: 'medical-aid', fields: ['role'] },
      ],
      [renshe, renshe],
      'the same benefit (medical-aid)',
    ],
  ])('refuses %s: 400 VALIDATION_FAILED', (_, entries, recipients, detail) => {
    expect(check(entries, recipients)).toEqual({ code: 'VALIDATION_FAILED', detail: expect.stringContaining(detail) });
  });
});
