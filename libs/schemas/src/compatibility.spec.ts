import { checkCompatibility } from './compatibility.js';

type Schema = Record<string, unknown>;

/** A closed record schema around one field, the shape of every built-in source. */
function withField(field: Schema, extra: Schema = {}): Schema {
  return { type: 'object', properties: { idNumber: { type: 'string' }, f: field }, required: ['idNumber'], additionalProperties: false, ...extra };
}

interface Case {
  rule: string;
  current: Schema;
  next: Schema;
  /** null: compatible; otherwise the path of the (first) problem. */
  breaks: string | null;
  granted?: string[];
}

const cases: Case[] = [
  // required
  {
    rule: 'a new required field',
    current: withField({ type: 'string' }),
    next: withField({ type: 'string' }, { required: ['idNumber', 'f'] }),
    breaks: '/required/1',
  },
  {
    rule: 'a field no longer required',
    current: withField({ type: 'string' }, { required: ['idNumber', 'f'] }),
    next: withField({ type: 'string' }),
    breaks: null,
  },
  {
    rule: 'a new optional field',
    current: withField({ type: 'string' }),
    next: { ...withField({ type: 'string' }), properties: { idNumber: { type: 'string' }, f: { type: 'string' }, g: { type: 'integer' } } },
    breaks: null,
  },
  {
    rule: 'a new required field that is also new',
    current: withField({ type: 'string' }),
    next: {
      ...withField({ type: 'string' }),
      properties: { idNumber: { type: 'string' }, f: { type: 'string' }, g: { type: 'integer' } },
      required: ['idNumber', 'g'],
    },
    breaks: '/required/1',
  },
  // type
  { rule: 'a narrowed type (number -> integer)', current: withField({ type: 'number' }), next: withField({ type: 'integer' }), breaks: '/properties/f/type' },
  { rule: 'a widened type (integer -> number)', current: withField({ type: 'integer' }), next: withField({ type: 'number' }), breaks: null },
  { rule: 'a changed type (string -> number)', current: withField({ type: 'string' }), next: withField({ type: 'number' }), breaks: '/properties/f/type' },
  { rule: 'a union narrowed', current: withField({ type: ['string', 'null'] }), next: withField({ type: 'string' }), breaks: '/properties/f/type' },
  { rule: 'a union widened', current: withField({ type: 'string' }), next: withField({ type: ['string', 'null'] }), breaks: null },
  { rule: 'a type added where any was allowed', current: withField({}), next: withField({ type: 'string' }), breaks: '/properties/f/type' },
  { rule: 'a type removed', current: withField({ type: 'string' }), next: withField({}), breaks: null },
  // enum / const
  {
    rule: 'an enum value removed',
    current: withField({ enum: ['unmarried', 'married', 'divorced', 'widowed'] }),
    next: withField({ enum: ['unmarried', 'married', 'divorced'] }),
    breaks: '/properties/f/enum',
  },
  {
    rule: 'an enum value added',
    current: withField({ enum: ['unmarried', 'married'] }),
    next: withField({ enum: ['unmarried', 'married', 'divorced'] }),
    breaks: null,
  },
  { rule: 'an enum added', current: withField({ type: 'string' }), next: withField({ type: 'string', enum: ['a'] }), breaks: '/properties/f/enum' },
  { rule: 'an enum replaced by its superset as a type', current: withField({ enum: ['a', 'b'] }), next: withField({ type: 'string' }), breaks: null },
  {
    rule: 'an enum of mixed types replaced by one type',
    current: withField({ enum: ['a', 1] }),
    next: withField({ type: 'string' }),
    breaks: '/properties/f/type',
  },
  { rule: 'a const changed', current: withField({ const: 'a' }), next: withField({ const: 'b' }), breaks: '/properties/f/const' },
  { rule: 'a const relaxed to an enum', current: withField({ const: 'a' }), next: withField({ enum: ['a', 'b'] }), breaks: null },
  { rule: 'an enum narrowed to a const', current: withField({ enum: ['a', 'b'] }), next: withField({ const: 'a' }), breaks: '/properties/f/const' },
  // string and array lengths
  {
    rule: 'maxLength lowered',
    current: withField({ type: 'string', maxLength: 50 }),
    next: withField({ type: 'string', maxLength: 20 }),
    breaks: '/properties/f/maxLength',
  },
  { rule: 'maxLength raised', current: withField({ type: 'string', maxLength: 20 }), next: withField({ type: 'string', maxLength: 50 }), breaks: null },
  { rule: 'maxLength added', current: withField({ type: 'string' }), next: withField({ type: 'string', maxLength: 50 }), breaks: '/properties/f/maxLength' },
  {
    rule: 'minLength raised',
    current: withField({ type: 'string', minLength: 1 }),
    next: withField({ type: 'string', minLength: 2 }),
    breaks: '/properties/f/minLength',
  },
  { rule: 'minLength lowered', current: withField({ type: 'string', minLength: 2 }), next: withField({ type: 'string', minLength: 1 }), breaks: null },
  {
    rule: 'minItems raised',
    current: withField({ type: 'array', minItems: 0 }),
    next: withField({ type: 'array', minItems: 1 }),
    breaks: '/properties/f/minItems',
  },
  {
    rule: 'maxItems lowered',
    current: withField({ type: 'array', maxItems: 600 }),
    next: withField({ type: 'array', maxItems: 120 }),
    breaks: '/properties/f/maxItems',
  },
  { rule: 'maxItems removed', current: withField({ type: 'array', maxItems: 600 }), next: withField({ type: 'array' }), breaks: null },
  // numeric ranges
  {
    rule: 'minimum raised',
    current: withField({ type: 'number', minimum: 0 }),
    next: withField({ type: 'number', minimum: 1 }),
    breaks: '/properties/f/minimum',
  },
  { rule: 'minimum lowered', current: withField({ type: 'number', minimum: 1 }), next: withField({ type: 'number', minimum: 0 }), breaks: null },
  {
    rule: 'maximum lowered',
    current: withField({ type: 'number', maximum: 100 }),
    next: withField({ type: 'number', maximum: 99 }),
    breaks: '/properties/f/maximum',
  },
  { rule: 'maximum raised', current: withField({ type: 'number', maximum: 99 }), next: withField({ type: 'number', maximum: 100 }), breaks: null },
  {
    rule: 'minimum made exclusive at the same value',
    current: withField({ type: 'number', minimum: 0 }),
    next: withField({ type: 'number', exclusiveMinimum: 0 }),
    breaks: '/properties/f/exclusiveMinimum',
  },
  {
    rule: 'exclusiveMinimum relaxed to minimum at the same value',
    current: withField({ type: 'number', exclusiveMinimum: 0 }),
    next: withField({ type: 'number', minimum: 0 }),
    breaks: null,
  },
  {
    rule: 'exclusiveMaximum added',
    current: withField({ type: 'number' }),
    next: withField({ type: 'number', exclusiveMaximum: 1 }),
    breaks: '/properties/f/exclusiveMaximum',
  },
  {
    rule: 'exclusiveMaximum replaced by a looser maximum',
    current: withField({ type: 'number', exclusiveMaximum: 1 }),
    next: withField({ type: 'number', maximum: 2 }),
    breaks: null,
  },
  {
    rule: 'multipleOf made coarser',
    current: withField({ type: 'number', multipleOf: 0.5 }),
    next: withField({ type: 'number', multipleOf: 1 }),
    breaks: '/properties/f/multipleOf',
  },
  { rule: 'multipleOf made finer', current: withField({ type: 'number', multipleOf: 1 }), next: withField({ type: 'number', multipleOf: 0.5 }), breaks: null },
  {
    // Found by compatibility.property.spec.ts: ajv divides in floating point, 0.3 / 0.1 = 2.9999999999999996.
    rule: 'multipleOf made finer by a decimal fraction ajv cannot divide by exactly',
    current: withField({ type: 'number', multipleOf: 0.3 }),
    next: withField({ type: 'number', multipleOf: 0.1 }),
    breaks: '/properties/f/multipleOf',
  },
  // pattern and format
  {
    rule: 'a pattern added',
    current: withField({ type: 'string' }),
    next: withField({ type: 'string', pattern: '^1\\d{10}$' }),
    breaks: '/properties/f/pattern',
  },
  {
    rule: 'a pattern changed',
    current: withField({ type: 'string', pattern: '^\\d+$' }),
    next: withField({ type: 'string', pattern: '^[0-9]+$' }),
    breaks: '/properties/f/pattern',
  },
  {
    rule: 'a pattern kept identical',
    current: withField({ type: 'string', pattern: '^\\d+$', maxLength: 5 }),
    next: withField({ type: 'string', pattern: '^\\d+$', maxLength: 9 }),
    breaks: null,
  },
  { rule: 'a pattern removed', current: withField({ type: 'string', pattern: '^\\d+$' }), next: withField({ type: 'string' }), breaks: null },
  { rule: 'a format added', current: withField({ type: 'string' }), next: withField({ type: 'string', format: 'date' }), breaks: '/properties/f/format' },
  // removed properties and additionalProperties
  {
    rule: 'a property removed from a closed schema',
    current: withField({ type: 'string' }),
    next: { type: 'object', properties: { idNumber: { type: 'string' } }, required: ['idNumber'], additionalProperties: false },
    breaks: '/properties/f',
  },
  {
    rule: 'a property removed from an open schema',
    current: { type: 'object', properties: { idNumber: { type: 'string' }, f: { type: 'string' } } },
    next: { type: 'object', properties: { idNumber: { type: 'string' } } },
    breaks: null,
  },
  {
    rule: 'a schema closed',
    current: { type: 'object', properties: { idNumber: { type: 'string' } } },
    next: { type: 'object', properties: { idNumber: { type: 'string' } }, additionalProperties: false },
    breaks: '/additionalProperties',
  },
  {
    rule: 'a schema opened',
    current: { type: 'object', properties: { idNumber: { type: 'string' } }, additionalProperties: false },
    next: { type: 'object', properties: { idNumber: { type: 'string' } } },
    breaks: null,
  },
  {
    rule: 'a removed property now meeting a stricter additionalProperties schema',
    current: { type: 'object', properties: { f: { type: ['string', 'number'] } } },
    next: { type: 'object', properties: {}, additionalProperties: { type: 'string' } },
    breaks: '/additionalProperties/type',
  },
  // nesting
  {
    rule: 'a nested enum narrowed',
    current: withField({ type: 'object', properties: { status: { enum: ['a', 'b'] } } }),
    next: withField({ type: 'object', properties: { status: { enum: ['a'] } } }),
    breaks: '/properties/f/properties/status/enum',
  },
  {
    rule: 'a nested field newly required',
    current: withField({ type: 'object', properties: { since: { type: 'string' } } }),
    next: withField({ type: 'object', properties: { since: { type: 'string' } }, required: ['since'] }),
    breaks: '/properties/f/required/0',
  },
  {
    rule: 'a nested optional field added',
    current: withField({ type: 'object', properties: { since: { type: 'string' } }, additionalProperties: false }),
    next: withField({ type: 'object', properties: { since: { type: 'string' }, months: { type: 'integer' } }, additionalProperties: false }),
    breaks: null,
  },
  {
    rule: 'array items narrowed',
    current: withField({ type: 'array', items: { type: 'object', properties: { base: { type: 'number' } } } }),
    next: withField({ type: 'array', items: { type: 'object', properties: { base: { type: 'number', minimum: 0 } } } }),
    breaks: '/properties/f/items/properties/base/minimum',
  },
  {
    rule: 'array items relaxed',
    current: withField({ type: 'array', items: { type: 'string', maxLength: 5 } }),
    next: withField({ type: 'array', items: { type: 'string' } }),
    breaks: null,
  },
  {
    rule: 'array items constrained where any was allowed',
    current: withField({ type: 'array' }),
    next: withField({ type: 'array', items: { type: 'string' } }),
    breaks: '/properties/f/items/type',
  },
  {
    rule: 'a property name needing JSON Pointer escaping',
    current: { type: 'object', properties: { 'a/b': { type: 'string' } } },
    next: { type: 'object', properties: { 'a/b': { type: 'number' } } },
    breaks: '/properties/a~1b/type',
  },
  // keywords not modelled are reported when changed, accepted when unchanged or removed
  {
    rule: 'an anyOf added',
    current: withField({ type: 'string' }),
    next: withField({ type: 'string', anyOf: [{ maxLength: 3 }, { minLength: 10 }] }),
    breaks: '/properties/f/anyOf',
  },
  {
    rule: 'an anyOf kept',
    current: withField({ type: 'string', anyOf: [{ maxLength: 3 }] }),
    next: withField({ type: 'string', anyOf: [{ maxLength: 3 }], description: 'now documented' }),
    breaks: null,
  },
  {
    rule: 'a $ref target changed through $defs',
    current: withField({ $ref: '#/$defs/f' }, { $defs: { f: { type: 'string' } } }),
    next: withField({ $ref: '#/$defs/f' }, { $defs: { f: { type: 'integer' } } }),
    breaks: '/$defs',
  },
  // grants
  {
    rule: 'a granted field kept with its type',
    current: withField({ type: 'string' }),
    next: withField({ type: 'string', maxLength: 100 }),
    granted: ['f'],
    breaks: '/properties/f/maxLength',
  },
  {
    rule: 'a granted field kept, relaxed',
    current: withField({ type: 'string', maxLength: 10 }),
    next: withField({ type: 'string', maxLength: 100 }),
    granted: ['f', 'idNumber'],
    breaks: null,
  },
  {
    rule: 'a granted field removed from an open schema',
    current: { type: 'object', properties: { idNumber: { type: 'string' }, f: { type: 'string' } } },
    next: { type: 'object', properties: { idNumber: { type: 'string' } } },
    granted: ['f'],
    breaks: '/properties/f',
  },
  {
    rule: 'a granted field widened to another type',
    current: withField({ type: 'integer' }),
    next: withField({ type: 'number' }),
    granted: ['f'],
    breaks: '/properties/f/type',
  },
  { rule: 'a granted field that lost its type', current: withField({ type: 'string' }), next: withField({}), granted: ['f'], breaks: '/properties/f/type' },
];

describe('checkCompatibility', () => {
  it.each(cases)('$rule', ({ current, next, granted, breaks }) => {
    const report = checkCompatibility(current, next, granted ?? []);
    if (breaks === null) {
      expect(report).toEqual({ compatible: true, problems: [] });
    } else {
      expect(report.compatible).toBe(false);
      expect(report.problems.map((problem) => problem.path)).toContain(breaks);
      for (const problem of report.problems) expect(problem.reason).toEqual(expect.any(String));
    }
  });

  it('accepts an identical schema and reports nothing', () => {
    const schema = withField({ type: 'string', pattern: '^x$' });
    expect(checkCompatibility(schema, structuredClone(schema), ['f'])).toEqual({ compatible: true, problems: [] });
  });

  it('reports every problem, not only the first', () => {
    const report = checkCompatibility(
      withField({ type: 'string', maxLength: 10 }),
      withField({ type: 'string', maxLength: 5, pattern: '^a' }, { required: ['idNumber', 'f'] }),
      [],
    );
    expect(report.problems.map((problem) => problem.path).sort()).toEqual(['/properties/f/maxLength', '/properties/f/pattern', '/required/1']);
  });

  it('names the removed enum values in the reason', () => {
    const report = checkCompatibility(withField({ enum: ['married', 'widowed'] }), withField({ enum: ['married'] }), []);
    expect(report.problems).toEqual([{ path: '/properties/f/enum', reason: '["widowed"] no longer allowed' }]);
  });
});
