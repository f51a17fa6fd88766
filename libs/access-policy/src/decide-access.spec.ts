import { type CaseFacts, decideAccess, type EffectiveGrant } from './decide-access.js';

const SELLER = '11010519491231002X';
const BUYER = '330825199002152341';
const STRANGER = '440524188001010014';
const grant = (over: Partial<EffectiveGrant> = {}): EffectiveGrant => ({
  id: 'g1',
  fields: ['name', 'maritalStatus'],
  verifyFields: ['spouseIdNumber'],
  purposes: ['property-transfer'],
  unmaskedFields: [],
  ...over,
});
const openCase: CaseFacts = { state: 'open', matter: 'property-transfer', partyIdNumbers: [SELLER, BUYER] };
const read = (over: Record<string, unknown> = {}) => ({ purpose: 'property-transfer', subject: BUYER, mode: 'read' as const, ...over });

describe('decideAccess', () => {
  it.each([
    ['no grant', [], openCase, read(), 'GRANT_MISSING'],
    ['purpose other than the case matter', [grant()], openCase, read({ purpose: 'marriage-registration' }), 'PURPOSE_NOT_GRANTED'],
    ['case matter not among the grant purposes', [grant({ purposes: ['other'] })], openCase, read(), 'PURPOSE_NOT_GRANTED'],
    ['a withdrawn case', [grant()], { ...openCase, state: 'withdrawn' as const }, read(), 'CASE_NOT_OPEN'],
    ['a completed case', [grant()], { ...openCase, state: 'completed' as const }, read(), 'CASE_NOT_OPEN'],
    ['a rejected case', [grant()], { ...openCase, state: 'rejected' as const }, read(), 'CASE_NOT_OPEN'],
    ['a stranger', [grant()], openCase, read({ subject: STRANGER }), 'SUBJECT_NOT_IN_CASE'],
    ['a field outside the grant', [grant()], openCase, read({ fields: ['name', 'address'] }), 'FIELD_NOT_GRANTED'],
    ['reading a verify-only field', [grant()], openCase, read({ fields: ['spouseIdNumber'] }), 'FIELD_NOT_GRANTED'],
    ['verifying an ungranted field', [grant()], openCase, read({ mode: 'verify', fields: ['address'] }), 'FIELD_NOT_GRANTED'],
    ['verifying with no claims', [grant()], openCase, read({ mode: 'verify', fields: [] }), 'FIELD_NOT_GRANTED'],
  ])('denies %s', (_, grants, facts, request, code) => {
    const decision = decideAccess(grants, facts, request);
    expect(decision).toMatchObject({ allowed: false, code });
  });

  it('checks in a fixed order: grant, purpose, case, subject, fields', () => {
    const everythingWrong = read({ subject: STRANGER, fields: ['address'] });
    expect(decideAccess([grant()], { ...openCase, state: 'withdrawn' }, everythingWrong)).toMatchObject({ code: 'CASE_NOT_OPEN' });
    expect(decideAccess([grant()], openCase, everythingWrong)).toMatchObject({ code: 'SUBJECT_NOT_IN_CASE' });
  });

  it('allows a lookup while the case is under approval (the hall still gathers its evidence)', () => {
    expect(decideAccess([grant()], { ...openCase, state: 'approving' }, read())).toMatchObject({ allowed: true });
  });

  it('allows every granted field when none are named', () => {
    expect(decideAccess([grant()], openCase, read())).toEqual({ allowed: true, fields: ['name', 'maritalStatus'], unmasked: [], grantIds: ['g1'] });
  });

  it('adds up grants for the same purpose and ignores grants for other purposes', () => {
    const grants = [
      grant(),
      grant({ id: 'g2', fields: ['address'], unmaskedFields: ['address'] }),
      grant({ id: 'g3', fields: ['salary'], purposes: ['other'] }),
    ];
    const decision = decideAccess(grants, openCase, read({ fields: ['name', 'address'] }));
    expect(decision).toEqual({ allowed: true, fields: ['name', 'address'], unmasked: ['address'], grantIds: ['g1', 'g2'] });
    expect(decideAccess(grants, openCase, read({ fields: ['salary'] }))).toMatchObject({ code: 'FIELD_NOT_GRANTED' });
  });

  it('lets a verification use verify-only fields', () => {
    expect(decideAccess([grant()], openCase, read({ mode: 'verify', fields: ['maritalStatus', 'spouseIdNumber'] }))).toMatchObject({
      allowed: true,
      fields: ['maritalStatus', 'spouseIdNumber'],
    });
  });
});
