// GB 11643 over many numbers rather than a handful: every number built by the standard's rules is
// accepted, every single-character change or adjacent swap of one is refused (what the MOD 11-2
// check character is for), and a lower-case x is the same number. The check character is computed here from the
// standard's formula, not with checkDigitOf, so that a wrong weight in the lib cannot agree with
// itself.
import fc from 'fast-check';
import { birthDateOf, checkIdNumber, findIdNumberViolation, genderOf, isIdNumber, maskIdNumber } from './id-number.js';

const NOW = new Date('2026-06-30T12:00:00Z'); // 20:00 in China: 2026-06-30 is the last valid birth date
const PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82];

/** ISO 7064 MOD 11-2: weights 2^(17-i) mod 11; the check value c makes sum + c ≡ 1 (mod 11); 10 is written X. */
function checkCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (2 ** (17 - i) % 11) * Number(first17[i]);
  const c = (12 - (sum % 11)) % 11;
  return c === 10 ? 'X' : String(c);
}

const digits = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });

/** A number as GB 11643 builds one: province, rest of the region code, birth date, sequence, check character. */
const idNumbers = fc
  .record({
    province: fc.constantFrom(...PROVINCES),
    region: digits(4),
    born: fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2026-06-30T00:00:00Z'), noInvalidDate: true }),
    sequence: digits(3),
  })
  .map(({ province, region, born, sequence }) => {
    const first17 = `${province}${region}${born.toISOString().slice(0, 10).replaceAll('-', '')}${sequence}`;
    return { id: first17 + checkCharacter(first17), born: born.toISOString().slice(0, 10), sequence };
  });

describe('ID numbers (property-based)', () => {
  it('accepts every number built by the rules, and reads back its birth date and gender', () => {
    fc.assert(
      fc.property(idNumbers, ({ id, born, sequence }) => {
        expect(findIdNumberViolation(id, { now: NOW })).toBeNull();
        expect(checkIdNumber(id, { now: NOW })).toBe(id);
        expect(isIdNumber(id, { now: NOW })).toBe(true);
        const valid = checkIdNumber(id, { now: NOW });
        expect(birthDateOf(valid)).toBe(born);
        expect(genderOf(valid)).toBe(Number(sequence[2]) % 2 === 1 ? 'male' : 'female');
        expect(maskIdNumber(id)).toBe(`${id.slice(0, 6)}********${id.slice(14)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every change of one digit or the check character, which the check character alone catches', () => {
    fc.assert(
      fc.property(idNumbers, ({ id }) => {
        for (let at = 0; at < 18; at++) {
          for (const character of at === 17 ? '0123456789X' : '0123456789') {
            if (character === id[at]) continue;
            const changed = id.slice(0, at) + character + id.slice(at + 1);
            // Whatever other rule the change breaks (region, birth date), the check character no longer matches.
            if (checkCharacter(changed.slice(0, 17)) === changed[17]) throw new Error(`MOD 11-2 misses ${maskIdNumber(id)} changed at ${at}`);
            if (findIdNumberViolation(changed, { now: NOW }) === null) throw new Error(`accepted ${maskIdNumber(id)} changed at ${at}`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('refuses any other character anywhere as not a digit (or X at the end)', () => {
    const others = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => !/^[0-9Xx]$/.test(c));
    fc.assert(
      fc.property(idNumbers, fc.nat({ max: 17 }), fc.oneof(others, fc.constantFrom('X', 'x')), ({ id }, at, character) => {
        fc.pre(at < 17 || !/^[Xx]$/.test(character));
        const changed = id.slice(0, at) + character + id.slice(at + 1);
        // Outside the Basic Multilingual Plane a character is two UTF-16 units: then the length is wrong first.
        expect(findIdNumberViolation(changed, { now: NOW })).toBe(changed.length === 18 ? 'characters' : 'length');
        expect(() => checkIdNumber(changed, { now: NOW })).toThrow(expect.objectContaining({ code: 'ID_NUMBER_INVALID' }));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses every swap of two adjacent different digits, which the check character alone catches', () => {
    fc.assert(
      fc.property(idNumbers, ({ id }) => {
        for (let at = 0; at < 16; at++) {
          if (id[at] === id[at + 1]) continue;
          const swapped = id.slice(0, at) + id[at + 1] + id[at] + id.slice(at + 2);
          if (checkCharacter(swapped.slice(0, 17)) === swapped[17]) throw new Error(`MOD 11-2 misses ${maskIdNumber(id)} swapped at ${at}`);
          if (findIdNumberViolation(swapped, { now: NOW }) === null) throw new Error(`accepted ${maskIdNumber(id)} swapped at ${at}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('reads a lower-case x as X: checkIdNumber answers the upper-case number, isIdNumber only accepts that', () => {
    fc.assert(
      fc.property(
        idNumbers.filter(({ id }) => id.endsWith('X')),
        ({ id }) => {
          const lower = `${id.slice(0, 17)}x`;
          expect(findIdNumberViolation(lower, { now: NOW })).toBeNull();
          expect(checkIdNumber(lower, { now: NOW })).toBe(id);
          expect(isIdNumber(lower, { now: NOW })).toBe(false);
          expect(isIdNumber(id, { now: NOW })).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });
});
