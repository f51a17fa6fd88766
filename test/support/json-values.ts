// JSON values for the property tests (fast-check) of both canonical-JSON implementations: the audit
// log's RFC 8785 bytes (libs/audit) and the schemas' fingerprints (libs/schemas).
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Any JSON value, its strings made of any code point (control characters, astral planes; no lone
 * surrogates, which RFC 8785 refuses), kept small so that the unit project stays fast.
 */
export const jsonValues: fc.Arbitrary<Json> = fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }) as fc.Arbitrary<Json>;

/** The same value with the members of every object inserted in another order, which `seed` picks. */
export function reordered(value: Json, seed: number): Json {
  if (Array.isArray(value)) return value.map((item) => reordered(item, seed));
  if (value === null || typeof value !== 'object') return value;
  const rank = (key: string) => [...`${seed}:${key}`].reduce((hash, c) => (Math.imul(hash, 31) + c.codePointAt(0)!) | 0, seed);
  const keys = Object.keys(value).sort((a, b) => rank(a) - rank(b));
  // fromEntries defines own members, so a "__proto__" key stays a member as JSON.parse makes it.
  return Object.fromEntries(keys.map((key) => [key, reordered(value[key], seed)]));
}

/** What JSON.parse gives back for `value` after canonicalisation: RFC 8785 writes -0 as 0. */
export function parsedBack(value: Json): Json {
  if (Array.isArray(value)) return value.map(parsedBack);
  if (value === null || typeof value !== 'object') return Object.is(value, -0) ? 0 : value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, parsedBack(item)]));
}
