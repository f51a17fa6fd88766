import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RecordSchemaGuard } from './record-schema-guard.js';

// Jest runs from the repository root (rootDir), where schemas/ and test/ live.
const SCHEMAS = join(process.cwd(), 'schemas', 'records');
const FIXTURES = join(process.cwd(), 'test', 'fixtures', 'records');

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
const jsonFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort();

const sources = jsonFiles(SCHEMAS)
  .filter((name) => name !== 'classification.json')
  .map((name) => name.replace(/\.json$/, ''));
const classification = readJson(join(SCHEMAS, 'classification.json')) as Record<string, Record<string, string>>;

/** GB 11643-1999 check character: weighted sum of the 17 digits, mod 11, into "10X98765432". */
function hasValidCheckDigit(idNumber: string): boolean {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  if (!/^\d{17}[\dX]$/.test(idNumber)) return false;
  const sum = weights.reduce((total, weight, index) => total + weight * Number(idNumber[index]), 0);
  return '10X98765432'[sum % 11] === idNumber[17];
}

function idNumbersIn(value: unknown, key = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => idNumbersIn(item));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => idNumbersIn(v, k));
  return typeof value === 'string' && /idnumber$/i.test(key) ? [value] : [];
}

describe('built-in record schemas', () => {
  const guard = new RecordSchemaGuard();

  it('are the four built-in sources', () => {
    expect(sources).toEqual(['household', 'marriage', 'property', 'social-security']);
  });

  describe.each(sources)('%s', (source) => {
    const schema = readJson(join(SCHEMAS, `${source}.json`)) as Record<string, unknown>;
    const compiled = guard.compile(schema);
    const ok = jsonFiles(join(FIXTURES, source, 'ok'));
    const notOk = jsonFiles(join(FIXTURES, source, 'not-ok'));

    it('is a closed draft 2020-12 schema keyed by idNumber, titled in Chinese and English', () => {
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.additionalProperties).toBe(false);
      expect(schema.title).toMatch(/^\p{Script=Han}+ [A-Z][A-Za-z ]+$/u);
      expect(typeof schema.description).toBe('string');
      expect(compiled.required).toContain('idNumber');
      for (const field of compiled.fields) expect(field).toMatch(/^[a-z][A-Za-z0-9]*$/);
    });

    it('has its classification for exactly its top-level fields', () => {
      const levels = classification[source] ?? {};
      expect(Object.keys(levels).sort()).toEqual([...compiled.fields].sort());
      for (const level of Object.values(levels)) expect(['public', 'internal', 'sensitive', 'secret']).toContain(level);
    });

    it('has at least two ok and three not-ok fixtures', () => {
      expect(ok.length).toBeGreaterThanOrEqual(2);
      expect(notOk.length).toBeGreaterThanOrEqual(3);
    });

    it.each(ok)('accepts ok/%s', (file) => {
      const record = readJson(join(FIXTURES, source, 'ok', file));
      expect(compiled.validate(record)).toEqual({ ok: true });
      // Synthetic people still carry ID numbers that a GB 11643 check accepts.
      const idNumbers = idNumbersIn(record);
      expect(idNumbers.length).toBeGreaterThan(0);
      for (const idNumber of idNumbers) expect([idNumber, hasValidCheckDigit(idNumber)]).toEqual([idNumber, true]);
    });

    it.each(notOk)('rejects not-ok/%s', (file) => {
      const verdict = compiled.validate(readJson(join(FIXTURES, source, 'not-ok', file)));
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.errors[0]?.path).toMatch(/^\//);
    });
  });

  it('classifies no source that has no schema', () => {
    expect(Object.keys(classification).sort()).toEqual([...sources].sort());
  });
});
