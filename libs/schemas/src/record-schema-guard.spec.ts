import { Problem } from '@datarun/problems';
import { MAX_SCHEMA_BYTES, RecordSchemaGuard } from './record-schema-guard.js';
import { MAX_EXPANDED_SCHEMA_NODES, MAX_UNIQUE_NONSCALAR_ITEMS } from './schema-cost.js';

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

function objectSchema(properties: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { $schema: DRAFT, type: 'object', properties, additionalProperties: false, ...extra };
}

/** The Problem the guard throws, so a test can assert its code and which rule it names. */
function refusal(guard: RecordSchemaGuard, schema: unknown): Problem {
  try {
    guard.compile(schema);
  } catch (error) {
    if (error instanceof Problem) return error;
    throw error;
  }
  throw new Error('the schema was accepted');
}

describe('RecordSchemaGuard', () => {
  const guard = new RecordSchemaGuard();

  describe('accepts a sound schema and validates records with it', () => {
    const compiled = guard.compile(
      objectSchema(
        {
          idNumber: { type: 'string', pattern: '^\\d{17}[\\dX]$' },
          name: { type: 'string', minLength: 1 },
          birthDate: { type: 'string', format: 'date' },
          address: { $ref: '#/$defs/address' },
        },
        { required: ['idNumber', 'name'], $defs: { address: { type: 'string', maxLength: 10 } } },
      ),
    );

    it('reports fields and required', () => {
      expect(compiled.fields).toEqual(['idNumber', 'name', 'birthDate', 'address']);
      expect(compiled.required).toEqual(['idNumber', 'name']);
    });

    it.each<[string, unknown, { path: string; message?: string } | null]>([
      ['a valid record', { idNumber: '33082519900101001X', name: '张三', birthDate: '1990-01-01', address: '龙游县' }, null],
      ['a missing required field', { idNumber: '33082519900101001X' }, { path: '/name', message: 'is required' }],
      ['an extra property', { idNumber: '33082519900101001X', name: '张三', salary: 1 }, { path: '/salary', message: 'is not allowed' }],
      ['a broken pattern', { idNumber: '3308251990010100', name: '张三' }, { path: '/idNumber' }],
      ['a bad date format', { idNumber: '33082519900101001X', name: '张三', birthDate: '1990-02-30' }, { path: '/birthDate' }],
      ['a local $ref constraint', { idNumber: '33082519900101001X', name: '张三', address: 'x'.repeat(11) }, { path: '/address' }],
      ['a non-object', 'hello', { path: '' }],
    ])('%s', (_label, record, expected) => {
      const verdict = compiled.validate(record);
      if (expected === null) {
        expect(verdict).toEqual({ ok: true });
        return;
      }
      expect(verdict.ok).toBe(false);
      if (verdict.ok) return;
      expect(verdict.errors).toHaveLength(1); // allErrors: false stops at the first
      expect(verdict.errors[0]).toMatchObject(expected);
    });

    it('does not read inherited properties of a record', () => {
      const record = Object.create({ name: 'inherited' }) as Record<string, unknown>;
      record.idNumber = '33082519900101001X';
      expect(compiled.validate(record)).toEqual({ ok: false, errors: [{ path: '/name', message: 'is required' }] });
    });
  });

  describe('refuses', () => {
    function nested(levels: number): Record<string, unknown> {
      let schema: Record<string, unknown> = { type: 'string' };
      for (let i = 0; i < levels; i += 1) schema = { type: 'object', properties: { a: schema } };
      return schema;
    }

    it.each<[string, unknown, string, string, string]>([
      ['a non-object', ['type', 'object'], 'root', '', '""'],
      ['a root that is not an object type', { type: 'array', items: { type: 'string' } }, 'root', '/type', '"/type"'],
      ['a root without properties', { type: 'object' }, 'root', '/properties', '"/properties"'],
      ['a remote $ref', objectSchema({ a: { $ref: 'https://evil.example/schema.json' } }), 'external-reference', '/properties/a/$ref', '"/properties/a/$ref"'],
      ['a relative $ref', objectSchema({ a: { $ref: 'other.json#/x' } }), 'external-reference', '/properties/a/$ref', '"/properties/a/$ref"'],
      ['an anchor-style $ref', objectSchema({ a: { $ref: '#addr' } }), 'external-reference', '/properties/a/$ref', '"/properties/a/$ref"'],
      ['$id', objectSchema({ a: { type: 'string' } }, { $id: 'https://evil.example/s' }), 'external-reference', '/$id', '"/$id"'],
      ['$anchor', objectSchema({ a: { type: 'string', $anchor: 'a' } }), 'external-reference', '/properties/a/$anchor', '"/properties/a/$anchor"'],
      ['$dynamicRef', objectSchema({ a: { $dynamicRef: '#meta' } }), 'external-reference', '/properties/a/$dynamicRef', '"/properties/a/$dynamicRef"'],
      ['another draft', { ...objectSchema({ a: { type: 'string' } }), $schema: 'http://json-schema.org/draft-07/schema#' }, 'draft', '/$schema', '"/$schema"'],
      [
        '__proto__ as a property name',
        JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}'),
        'forbidden-key',
        '/properties/__proto__',
        '"/properties/__proto__"',
      ],
      [
        'constructor inside enum data',
        objectSchema({ a: { enum: [{ constructor: 1 }] } }),
        'forbidden-key',
        '/properties/a/enum/0/constructor',
        '"/properties/a/enum/0/constructor"',
      ],
      ['prototype as a property name', objectSchema({ prototype: { type: 'string' } }), 'forbidden-key', '/properties/prototype', '"/properties/prototype"'],
      ['a backreference', objectSchema({ a: { type: 'string', pattern: '^(a)\\1$' } }), 'pattern', '/properties/a/pattern', '"/properties/a/pattern"'],
      ['a lookahead', objectSchema({ a: { type: 'string', pattern: '^(?=a)a$' } }), 'pattern', '/properties/a/pattern', '"/properties/a/pattern"'],
      [
        'a patternProperties key RE2 cannot run',
        { type: 'object', properties: { a: { type: 'string' } }, patternProperties: { '(?!x)': { type: 'string' } } },
        'pattern',
        '/patternProperties/(?!x)',
        '"/patternProperties/(?!x)"',
      ],
      ['nesting deeper than 32', nested(20), 'depth', '', 'deeper than 32'],
      ['an unknown keyword (strict)', objectSchema({ a: { type: 'string', maxlength: 3 } }), 'json-schema', '', 'maxlength'],
      ['an unknown format (strict)', objectSchema({ a: { type: 'string', format: 'regex' } }), 'json-schema', '', 'regex'],
      ['a meta-schema violation', objectSchema({ a: { type: 'string', minLength: -1 } }), 'json-schema', '', 'minLength'],
      ['a required field that is not declared (strict)', objectSchema({ a: { type: 'string' } }, { required: ['b'] }), 'json-schema', '', '"b"'],
      ['a $ref to nothing', objectSchema({ a: { $ref: '#/$defs/nope' } }), 'json-schema', '', '#/$defs/nope'],
    ])('%s', (_label, schema, rule, path, mentions) => {
      const problem = refusal(guard, schema);
      expect(problem.code).toBe('SCHEMA_INVALID');
      expect(problem.extensions).toMatchObject({ rule });
      if (rule !== 'depth') expect(problem.extensions).toMatchObject({ path });
      expect(problem.detail).toContain(rule);
      expect(problem.detail).toContain(mentions);
    });

    it('a schema larger than 64 KB, before compiling', () => {
      const properties: Record<string, unknown> = {};
      for (let i = 0; properties && JSON.stringify(properties).length <= MAX_SCHEMA_BYTES; i += 1) {
        properties[`field${i}`] = { type: 'string', description: 'x'.repeat(200) };
      }
      expect(refusal(guard, objectSchema(properties)).extensions).toMatchObject({ rule: 'size' });
    });

    it('a cyclic object', () => {
      const schema: Record<string, unknown> = objectSchema({ a: { type: 'string' } });
      (schema.properties as Record<string, unknown>).self = schema;
      expect(refusal(guard, schema).extensions).toMatchObject({ rule: 'json' });
    });

    it('but accepts nesting within the depth limit', () => {
      expect(() => guard.compile(nested(12))).not.toThrow();
    });
  });

  describe('bounds the work of validating one record (no keyword costs more than linear time)', () => {
    const tags = (items: unknown, extra: Record<string, unknown> = {}) => objectSchema({ tags: { type: 'array', items, uniqueItems: true, ...extra } });
    const pairs = (n: number) => Array.from({ length: n }, (_, i) => ({ a: i }));

    it('refuses uniqueItems over objects without a small maxItems (a pairwise deep comparison)', () => {
      const problem = refusal(guard, tags({ type: 'object', properties: { a: { type: 'integer' } } }));
      expect(problem.extensions).toMatchObject({ rule: 'unique-items', path: '/properties/tags/uniqueItems' });
      expect(problem.detail).toContain(`"maxItems" ≤ ${MAX_UNIQUE_NONSCALAR_ITEMS}`);
      expect(refusal(guard, tags({ type: 'object' }, { maxItems: MAX_UNIQUE_NONSCALAR_ITEMS + 1 })).extensions).toMatchObject({ rule: 'unique-items' });
      // Items ajv cannot type from `items.type` alone (enum, $ref, no items) are compared pairwise too.
      expect(refusal(guard, tags({ enum: ['a', 'b'] })).extensions).toMatchObject({ rule: 'unique-items' });
      expect(refusal(guard, objectSchema({ tags: { type: 'array', uniqueItems: true } })).extensions).toMatchObject({ rule: 'unique-items' });
      expect(refusal(guard, objectSchema({ list: { type: 'array', items: { type: 'array', uniqueItems: true } } })).extensions).toMatchObject({
        path: '/properties/list/items/uniqueItems',
      });
    });

    it('accepts uniqueItems over declared scalars, or over objects with a small maxItems, and still enforces it', () => {
      const scalars = guard.compile(tags({ type: 'string' }));
      const many = Array.from({ length: 10_000 }, (_, i) => `t${i}`);
      expect(scalars.validate({ tags: many })).toEqual({ ok: true });
      expect(scalars.validate({ tags: [...many, 't5'] }).ok).toBe(false);
      const bounded = guard.compile(tags({ type: 'object', properties: { a: { type: 'integer' } } }, { maxItems: MAX_UNIQUE_NONSCALAR_ITEMS }));
      expect(bounded.validate({ tags: pairs(MAX_UNIQUE_NONSCALAR_ITEMS) })).toEqual({ ok: true });
      expect(bounded.validate({ tags: [...pairs(3), { a: 1 }] }).ok).toBe(false);
      expect(bounded.validate({ tags: pairs(MAX_UNIQUE_NONSCALAR_ITEMS + 1) }).ok).toBe(false);
    });

    it('refuses a $ref back to a schema that contains it (recursion as deep as the data)', () => {
      const self = objectSchema({ child: { $ref: '#' } });
      expect(refusal(guard, self).extensions).toMatchObject({ rule: 'recursive-reference', path: '/properties/child/$ref' });
      const mutual = objectSchema(
        { a: { $ref: '#/$defs/x' } },
        { $defs: { x: { type: 'object', properties: { y: { $ref: '#/$defs/y' } } }, y: { anyOf: [{ $ref: '#/$defs/x' }, { type: 'null' }] } } },
      );
      expect(refusal(guard, mutual).extensions).toMatchObject({ rule: 'recursive-reference' });
    });

    it('refuses $ref chains that multiply (2^n evaluations per value), and accepts shared definitions of a sane size', () => {
      const defs: Record<string, unknown> = { d0: { type: 'string' } };
      for (let i = 1; i <= 16; i += 1) defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i - 1}` }, { $ref: `#/$defs/d${i - 1}` }] };
      const problem = refusal(guard, objectSchema({ a: { $ref: '#/$defs/d16' } }, { $defs: defs }));
      expect(problem.extensions).toMatchObject({ rule: 'complexity' });
      expect(problem.detail).toContain(String(MAX_EXPANDED_SCHEMA_NODES));
      const few = Object.fromEntries(Object.entries(defs).slice(0, 6));
      expect(() => guard.compile(objectSchema({ a: { $ref: '#/$defs/d5' }, b: { $ref: '#/$defs/d5' } }, { $defs: few }))).not.toThrow();
    });
  });

  describe('patterns run on RE2', () => {
    it('enforces two different patterns compiled in one process (no cache collision)', () => {
      const digits = guard.compile(objectSchema({ code: { type: 'string', pattern: '^[0-9]+$' } }));
      const letters = guard.compile(objectSchema({ code: { type: 'string', pattern: '^[a-z]+$' } }));
      expect(digits.validate({ code: '123' }).ok).toBe(true);
      expect(digits.validate({ code: 'abc' }).ok).toBe(false);
      expect(letters.validate({ code: 'abc' }).ok).toBe(true);
      expect(letters.validate({ code: '123' }).ok).toBe(false);
    });

    it('enforces two patterns within one schema, including patternProperties', () => {
      const compiled = guard.compile({
        type: 'object',
        properties: { a: { type: 'string', pattern: '^x+$' }, b: { type: 'string', pattern: '^y+$' } },
        patternProperties: { '^n_': { type: 'number' } },
      });
      expect(compiled.validate({ a: 'xx', b: 'yy', n_1: 1 }).ok).toBe(true);
      expect(compiled.validate({ a: 'yy', b: 'yy' }).ok).toBe(false);
      expect(compiled.validate({ a: 'xx', b: 'xx' }).ok).toBe(false);
      expect(compiled.validate({ a: 'xx', b: 'yy', n_1: 'one' }).ok).toBe(false);
    });

    it('answers a catastrophic-backtracking pattern on a long input (no ReDoS)', () => {
      const compiled = guard.compile(objectSchema({ a: { type: 'string', pattern: '^(a+)+$' } }));
      expect(compiled.validate({ a: `${'a'.repeat(50_000)}!` }).ok).toBe(false);
      expect(compiled.validate({ a: 'a'.repeat(50_000) }).ok).toBe(true);
    });

    it('keeps ECMA-262 syntax RE2 spells differently (\\u escapes, named groups) and searches unanchored', () => {
      const compiled = guard.compile(objectSchema({ a: { type: 'string', pattern: '[\\u4e00-\\u9fa5](?<x>区)' } }));
      expect(compiled.validate({ a: 'xx龙游区yy' }).ok).toBe(true);
      expect(compiled.validate({ a: 'district' }).ok).toBe(false);
    });
  });

  describe('caching', () => {
    it('answers the same compiled schema for the same content, whatever the key order', () => {
      const a = guard.compile({ type: 'object', properties: { x: { type: 'string', minLength: 1 } } });
      const b = guard.compile({ properties: { x: { minLength: 1, type: 'string' } }, type: 'object' });
      const c = guard.compile({ type: 'object', properties: { x: { type: 'string', minLength: 2 } } });
      expect(b).toBe(a);
      expect(c).not.toBe(a);
    });

    it("is not affected by later changes to the caller's object", () => {
      const schema = objectSchema({ x: { type: 'string', maxLength: 2 } });
      const compiled = guard.compile(schema);
      (schema.properties as Record<string, Record<string, unknown>>).x.maxLength = 100;
      expect(compiled.validate({ x: 'abc' }).ok).toBe(false);
      expect(() => (compiled.fields as string[]).push('y')).toThrow(TypeError);
    });
  });
});
