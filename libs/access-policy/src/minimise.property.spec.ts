// Minimisation over many records, beside the examples in minimise.spec.ts: a caller never sees a
// field it was not granted, never the middle of another person's ID number or of a phone number in
// a sensitive or secret field it may not read in full, and minimising what was already minimised
// changes nothing (an answer passed on is not masked twice into something else).
import fc from 'fast-check';
import { type Classification, minimiseRecord } from './minimise.js';

const SUBJECT = '330825199002152341';
const FIELDS = ['idNumber', 'spouseIdNumber', 'phone', 'name', 'note', 'witnesses', 'certificate'];
const CLASSES: Classification[] = ['public', 'internal', 'sensitive', 'secret'];

const digits = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });
/** Shaped like an ID number (masking looks at the shape, not the check character), x in either case. */
const idNumbers = fc.tuple(digits(17), fc.constantFrom(...'0123456789Xx')).map(([first, last]) => first + last);
const phones = digits(10).map((rest) => `1${rest}`);
const identifiers = fc.oneof(idNumbers, phones, fc.constant(SUBJECT), fc.constant(SUBJECT.toLowerCase()));
const leaves = fc.oneof(identifiers, fc.string({ maxLength: 8 }), digits(11), fc.integer(), fc.boolean(), fc.constant(null));
/** Field values: identifiers alone, or nested in arrays and objects as in a certificate's witnesses. */
const values = fc.letrec((tie) => ({
  value: fc.oneof(
    { maxDepth: 2, withCrossShrink: true },
    leaves,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('idNumber', 'phone', 'name'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const inputs = fc.record({
  record: fc.dictionary(fc.constantFrom(...FIELDS), values),
  fields: fc.subarray([...FIELDS, 'salary']),
  classification: fc.dictionary(fc.constantFrom(...FIELDS), fc.constantFrom(...CLASSES)),
  unmasked: fc.subarray(FIELDS),
});

/** Every [input, output] pair of strings at the same place in two values of the same shape. */
function* pairs(input: unknown, output: unknown): Generator<[string, unknown]> {
  if (typeof input === 'string') yield [input, output];
  else if (input !== null && typeof input === 'object') {
    for (const [key, item] of Object.entries(input)) yield* pairs(item, (output as Record<string, unknown>)[key]);
  }
}

describe('minimiseRecord (property-based)', () => {
  it('answers only granted fields the record has', () => {
    fc.assert(
      fc.property(inputs, ({ record, fields, classification, unmasked }) => {
        const out = minimiseRecord(record, fields, classification, SUBJECT, unmasked);
        expect(Object.keys(out).sort()).toEqual(fields.filter((f) => Object.hasOwn(record, f)).sort());
      }),
      { numRuns: 200 },
    );
  });

  it("masks the middle of every other person's ID number and every phone number in a masked field, and nothing else", () => {
    fc.assert(
      fc.property(inputs, ({ record, fields, classification, unmasked }) => {
        const out = minimiseRecord(record, fields, classification, SUBJECT, unmasked);
        for (const field of Object.keys(out)) {
          const masked = (classification[field] === 'sensitive' || classification[field] === 'secret') && !unmasked.includes(field);
          for (const [before, after] of pairs(record[field], out[field])) {
            const isId = /^\d{17}[\dXx]$/.test(before) && before.toUpperCase() !== SUBJECT;
            const isPhone = /^1\d{10}$/.test(before);
            if (masked && isId) expect(after).toBe(`${before.slice(0, 6)}********${before.slice(14)}`);
            else if (masked && isPhone) expect(after).toBe(`${before.slice(0, 3)}****${before.slice(7)}`);
            else expect(after).toBe(before);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('changes nothing when minimising its own answer again', () => {
    fc.assert(
      fc.property(inputs, ({ record, fields, classification, unmasked }) => {
        const once = minimiseRecord(record, fields, classification, SUBJECT, unmasked);
        expect(minimiseRecord(once, fields, classification, SUBJECT, unmasked)).toEqual(once);
      }),
      { numRuns: 200 },
    );
  });
});
