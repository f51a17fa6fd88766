import { minimiseRecord } from './minimise.js';

const SUBJECT = '330825199002152341';
const SPOUSE = '11010519491231002X';
const record = {
  idNumber: SUBJECT,
  name: '李四',
  maritalStatus: 'married',
  spouseIdNumber: SPOUSE,
  spouseName: '张三',
  phone: '13812345678',
  certificate: { number: 'J330825-2015-001234', witnesses: [{ idNumber: SPOUSE, phone: '13900001111' }] },
};
const classification = {
  idNumber: 'sensitive',
  name: 'internal',
  maritalStatus: 'internal',
  spouseIdNumber: 'sensitive',
  spouseName: 'internal',
  phone: 'sensitive',
  certificate: 'secret',
} as const;

describe('minimiseRecord', () => {
  it('returns only the granted fields', () => {
    expect(Object.keys(minimiseRecord(record, ['name', 'maritalStatus', 'salary'], classification, SUBJECT, []))).toEqual(['name', 'maritalStatus']);
  });

  it("masks another person's ID number and phone numbers in sensitive and secret fields, never the subject's own ID", () => {
    const out = minimiseRecord(record, Object.keys(record), classification, SUBJECT, []);
    expect(out.idNumber).toBe(SUBJECT);
    expect(out.spouseIdNumber).toBe('110105********002X');
    expect(out.phone).toBe('138****5678');
    expect(out.spouseName).toBe('张三');
    expect(out.certificate).toEqual({ number: 'J330825-2015-001234', witnesses: [{ idNumber: '110105********002X', phone: '139****1111' }] });
    expect(JSON.stringify(out)).not.toContain(SPOUSE);
  });

  it('leaves a field in full when the grant unmasks it', () => {
    const out = minimiseRecord(record, ['spouseIdNumber', 'phone'], classification, SUBJECT, ['spouseIdNumber']);
    expect(out).toEqual({ spouseIdNumber: SPOUSE, phone: '138****5678' });
  });

  it('does not mask identifiers in public or internal fields', () => {
    const out = minimiseRecord({ note: SPOUSE }, ['note'], { note: 'internal' }, SUBJECT, []);
    expect(out.note).toBe(SPOUSE);
  });
});
