import { Problem } from '@datarun/problems';
import { birthDateOf, checkDigitOf, checkIdNumber, findIdNumberViolation, genderOf, isIdNumber, maskIdNumber } from './id-number.js';
import type { IdNumber, IdNumberRule } from './id-number.js';

const NOW = new Date('2026-06-30T12:00:00Z');
const check = (value: unknown): IdNumber => checkIdNumber(value, { now: NOW });

function problemOf(value: unknown, now = NOW): Problem {
  try {
    checkIdNumber(value, { now });
  } catch (error) {
    if (error instanceof Problem) return error;
    throw error;
  }
  throw new Error('expected checkIdNumber to throw');
}

/** A valid number for the given 17 digits. */
const withCheck = (first17: string): string => first17 + checkDigitOf(first17);

describe('checkIdNumber', () => {
  it.each([
    // The example of GB 11643-1999 itself.
    ['11010519491231002X', '11010519491231002X'],
    ['11010519491231002x', '11010519491231002X'],
    ['330825198503121239', '330825198503121239'],
    ['330825195801304523', '330825195801304523'],
    // Feb 29 of a leap year, including a century divisible by 400.
    [withCheck('33082519960229123'), withCheck('33082519960229123')],
    [withCheck('33082520000229123'), withCheck('33082520000229123')],
    // The first allowed birth date, and today in China (UTC+8) although it is still yesterday in UTC.
    [withCheck('11010519000101001'), withCheck('11010519000101001')],
    // Every end of the province list.
    ...['11', '15', '21', '23', '31', '37', '41', '46', '50', '54', '61', '65', '71', '81', '82'].map((p) => {
      const id = withCheck(`${p}010219800101123`);
      return [id, id];
    }),
  ])('accepts %s', (input, expected) => {
    expect(check(input)).toBe(expected);
    expect(isIdNumber(expected, { now: NOW })).toBe(true);
  });

  it('accepts a birth date of today in China when it is still yesterday in UTC', () => {
    const lateUtc = new Date('2026-06-30T17:00:00Z'); // 01:00 on 1 July in Beijing
    expect(checkIdNumber(withCheck('33082520260701123'), { now: lateUtc })).toBe(withCheck('33082520260701123'));
    expect(() => checkIdNumber(withCheck('33082520260702123'), { now: lateUtc })).toThrow(Problem);
  });

  it.each<[string, unknown, IdNumberRule]>([
    ['a number', 330825198503121239, 'type'],
    ['null', null, 'type'],
    ['undefined', undefined, 'type'],
    ['an empty string', '', 'length'],
    ['17 characters', '33082519850312123', 'length'],
    ['19 characters', '3308251985031212390', 'length'],
    ['a 15-digit first-generation number', '330825850312123', 'length'],
    ['surrounding whitespace', ' 330825198503121239', 'length'],
    ['a letter among the first 17', '33082519850312A239', 'characters'],
    ['X before the last position', '3308251985031212X9', 'characters'],
    ['a check character other than a digit or X', '33082519850312123Y', 'characters'],
    ['full-width digits', '３３０８２５１９８５０３１２１２３９', 'characters'],
    ['a sign', '-33082519850312123', 'characters'],
    ['province 00', withCheck('00082519850312123'), 'region'],
    ['province 16', withCheck('16082519850312123'), 'region'],
    ['province 24', withCheck('24082519850312123'), 'region'],
    ['province 47', withCheck('47082519850312123'), 'region'],
    ['province 66', withCheck('66082519850312123'), 'region'],
    ['province 83', withCheck('83000019850312123'), 'region'],
    ['province 91', withCheck('91082519850312123'), 'region'],
    ['month 00', withCheck('33082519850012123'), 'birth-date'],
    ['month 13', withCheck('33082519851312123'), 'birth-date'],
    ['day 00', withCheck('33082519850300123'), 'birth-date'],
    ['April 31', withCheck('33082519850431123'), 'birth-date'],
    ['Feb 29 in a common year', withCheck('33082519850229123'), 'birth-date'],
    ['Feb 29 in 1900 (not a leap year)', withCheck('33082519000229123'), 'birth-date'],
    ['Feb 30', withCheck('33082519960230123'), 'birth-date'],
    ['a birth before 1900', withCheck('33082518991231123'), 'birth-date'],
    ['a birth tomorrow', withCheck('33082520260701123'), 'birth-date'],
    ['a birth in a future year', withCheck('33082520990101123'), 'birth-date'],
    ['a wrong check digit', '330825198503121238', 'check-digit'],
    ['X where a digit is due', '33082519850312123X', 'check-digit'],
    ['a digit where X is due', '110105194912310020', 'check-digit'],
  ])('rejects %s', (_name, input, rule) => {
    const problem = problemOf(input);
    expect(problem.code).toBe('ID_NUMBER_INVALID');
    expect(problem.status).toBe(400);
    expect(problem.extensions.rule).toBe(rule);
    expect(findIdNumberViolation(input, { now: NOW })).toBe(rule);
    expect(isIdNumber(input, { now: NOW })).toBe(false);
    // One sentence that names the rule, never the number.
    expect(problem.detail).toMatch(/^[A-Z][^.]*(\([^)]*\))?[^.]*\.$/);
    if (typeof input === 'string' && input.length > 0) {
      expect(problem.detail).not.toContain(input);
      expect(JSON.stringify(problem.extensions)).not.toContain(input);
      expect(problem.message).not.toContain(input);
    }
  });

  it('names a different rule in each detail', () => {
    const details = ['', 'A'.repeat(18), withCheck('00082519850312123'), withCheck('33082519850229123'), '330825198503121238'].map(
      (input) => problemOf(input).detail,
    );
    expect(details.map((d) => /length|digits followed|region|birth date|check character/.exec(d)?.[0])).toEqual([
      'length',
      'digits followed',
      'region',
      'birth date',
      'check character',
    ]);
  });

  it('offers the masked number, and only that, where the shape was right', () => {
    expect(problemOf('330825198503121238').extensions).toEqual({ rule: 'check-digit', idNumber: '330825********1238' });
  });

  it('uses the current time when no clock is given', () => {
    expect(checkIdNumber('11010519491231002X')).toBe('11010519491231002X');
    const nextYear = new Date().getUTCFullYear() + 1;
    expect(() => checkIdNumber(withCheck(`330825${nextYear}0101123`))).toThrow(Problem);
  });
});

describe('isIdNumber', () => {
  it('answers false for a lower-case x, which checkIdNumber normalises but the IdNumber type does not carry', () => {
    expect(isIdNumber('11010519491231002x', { now: NOW })).toBe(false);
    expect(isIdNumber('11010519491231002X', { now: NOW })).toBe(true);
  });
});

describe('checkDigitOf', () => {
  it.each([
    ['11010519491231002', 'X'],
    ['33082519850312123', '9'],
    ['33082519580130452', '3'],
    ['00000000000000000', '1'],
  ])('of %s is %s', (first17, expected) => {
    expect(checkDigitOf(first17)).toBe(expected);
  });

  it('yields every one of the 11 check characters', () => {
    const seen = new Set<string>();
    for (let seq = 0; seq < 200; seq++) seen.add(checkDigitOf(`3308251985031${String(seq).padStart(4, '0')}`));
    expect([...seen].sort()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']);
  });

  it.each(['', '1101051949123100', '110105194912310021', '1101051949123100X', '１１０１０５１９４９１２３１００２'])('refuses %j', (input) => {
    expect(() => checkDigitOf(input)).toThrow(Problem);
  });
});

describe('birthDateOf, genderOf, maskIdNumber', () => {
  it.each<[string, string, 'male' | 'female', string]>([
    ['11010519491231002X', '1949-12-31', 'female', '110105********002X'],
    ['330825198503121239', '1985-03-12', 'male', '330825********1239'],
    ['330825195801304523', '1958-01-30', 'female', '330825********4523'],
  ])('%s', (id, birthDate, gender, masked) => {
    const idNumber = check(id);
    expect(birthDateOf(idNumber)).toBe(birthDate);
    expect(genderOf(idNumber)).toBe(gender);
    expect(maskIdNumber(idNumber)).toBe(masked);
  });

  it('masks a string of another length entirely', () => {
    expect(maskIdNumber('33082519850312123')).toBe('*'.repeat(17));
    expect(maskIdNumber('')).toBe('');
  });
});
