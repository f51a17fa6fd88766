// RFC 8785 over many values, beside the RFC's own samples in canonical.spec.ts: the bytes an audit
// record's hash covers must not depend on how the value was built (member order), must be a fixed
// point, must mean the value itself, and anything that is not plain JSON data must be refused at
// any depth rather than guessed at (canonicalize alone would drop, convert or call it).
import fc from 'fast-check';
import { type Json, jsonValues, parsedBack, reordered } from '../../../../test/support/json-values.js';
import { canonicalBytes } from './canonical.js';

const text = (value: unknown) => canonicalBytes(value).toString('utf8');

/** `value` with `bad` put into its `where`-th array or object (depth first), or beside it when it has none. */
function spoiled(value: Json, bad: unknown, where: number): unknown {
  const copy = reordered(value, 0);
  const containers: Array<Json[] | { [key: string]: Json }> = [];
  const collect = (node: Json) => {
    if (node === null || typeof node !== 'object') return;
    containers.push(node);
    for (const item of Object.values(node)) collect(item);
  };
  collect(copy);
  if (containers.length === 0) return [copy, bad];
  const target = containers[where % containers.length] as unknown[] | Record<string, unknown>;
  if (Array.isArray(target)) target.push(bad);
  else target['not JSON'] = bad;
  return copy;
}

const notJson = fc.constantFrom<unknown>(
  undefined,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  () => 1,
  Symbol('s'),
  10n,
  new Date(0),
  new Map([['a', 1]]),
  Buffer.from('x'),
  '\uD800', // a lone high surrogate
  'a\uDC00b', // a lone low surrogate
  [, 1], // an array with a hole
);

describe('canonicalBytes (property-based)', () => {
  it('is a fixed point: the canonical form of the parsed canonical form is the same bytes', () => {
    fc.assert(
      fc.property(jsonValues, (value) => {
        const once = canonicalBytes(value);
        expect(canonicalBytes(JSON.parse(once.toString('utf8'))).equals(once)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on the order in which object members were inserted', () => {
    fc.assert(
      fc.property(jsonValues, fc.integer(), (value, seed) => {
        expect(text(reordered(value, seed))).toBe(text(value));
      }),
      { numRuns: 200 },
    );
  });

  it('parses back to the value itself (-0 written as 0)', () => {
    fc.assert(
      fc.property(jsonValues, (value) => {
        expect(JSON.parse(text(value))).toEqual(parsedBack(value));
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a value that is not plain JSON data wherever it sits', () => {
    fc.assert(
      fc.property(jsonValues, notJson, fc.nat(), (value, bad, where) => {
        expect(() => canonicalBytes(spoiled(value, bad, where))).toThrow(TypeError);
      }),
      { numRuns: 200 },
    );
  });
});
