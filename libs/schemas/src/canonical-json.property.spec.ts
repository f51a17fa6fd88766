// The schemas' canonical JSON identifies a schema's content (the compile cache, jsonEqual in the
// compatibility check): the same content built in another member order must give the same text,
// and that text must be RFC 8785's, as the canonicalize package writes it.
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { jsonValues, parsedBack, reordered } from '../../../test/support/json-values.js';
import { canonicalJson, jsonEqual, schemaFingerprint } from './canonical-json.js';

describe('canonicalJson (property-based)', () => {
  it('writes what the canonicalize package (RFC 8785) writes', () => {
    fc.assert(
      fc.property(jsonValues, (value) => {
        expect(canonicalJson(value)).toBe(canonicalize(value));
      }),
      { numRuns: 200 },
    );
  });

  it('does not depend on member order: same text, same fingerprint, jsonEqual', () => {
    fc.assert(
      fc.property(jsonValues, fc.integer(), (value, seed) => {
        const other = reordered(value, seed);
        expect(canonicalJson(other)).toBe(canonicalJson(value));
        expect(schemaFingerprint(other)).toBe(schemaFingerprint(value));
        expect(jsonEqual(other, value)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('is a fixed point and parses back to the value itself (-0 written as 0)', () => {
    fc.assert(
      fc.property(jsonValues, (value) => {
        const once = canonicalJson(value);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
        expect(JSON.parse(once)).toEqual(parsedBack(value));
      }),
      { numRuns: 200 },
    );
  });
});
