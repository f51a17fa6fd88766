// Schema compatibility over many small schemas, beside the rule-by-rule table in
// compatibility.spec.ts. The promise to a grant holder (docs/api.md, "Schema versions") is that a
// record valid under the current version stays valid under a new one judged compatible: that is
// checked here against ajv itself, through the lib's own RecordSchemaGuard, on records built from
// a few values on either side of every bound the schemas use.
import fc from 'fast-check';
import { checkCompatibility } from './compatibility.js';
import { RecordSchemaGuard } from './record-schema-guard.js';

type Leaf = Record<string, unknown>;
interface RecordSchema {
  type: 'object';
  properties: Record<string, Leaf>;
  required: string[];
  additionalProperties?: false;
}

const NAMES = ['a', 'b', 'c', 'd'] as const;
/** A name no generated schema declares: the field a new version adds. */
const NEW = 'added';
const STRINGS = ['', 'a', 'ab', 'abc', 'abcd', 'abcdef', 'married', 'single'];
const NUMBERS = [-2, -1, 0, 0.3, 0.5, 0.6, 1, 2, 2.5, 3, 10];
/** multipleOf values, with decimal fractions that binary floating point cannot divide exactly. */
const MULTIPLES = [0.1, 0.2, 0.25, 0.3, 0.5, 1, 2, 3];
const VALUES: unknown[] = [...STRINGS, ...NUMBERS, true, false, null, [], ['a'], [1, 2], { a: 1 }];

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** Drops the keys whose value is undefined (what fc.option leaves for an absent keyword). */
const defined = (leaf: Record<string, unknown>): Leaf => Object.fromEntries(Object.entries(leaf).filter(([, v]) => v !== undefined));

const stringLeaf = fc
  .record({
    type: fc.constantFrom<unknown>('string', ['string', 'null']),
    minLength: maybe(fc.nat({ max: 3 })),
    maxLength: maybe(fc.nat({ max: 5 })),
    enum: maybe(fc.subarray(STRINGS, { minLength: 1 })),
  })
  .map(defined);
const numberLeaf = fc
  .record({
    type: fc.constantFrom<unknown>('integer', 'number', ['integer', 'null'], ['number', 'null']),
    minimum: maybe(fc.constantFrom(...NUMBERS)),
    maximum: maybe(fc.constantFrom(...NUMBERS)),
    exclusiveMinimum: maybe(fc.constantFrom(...NUMBERS)),
    exclusiveMaximum: maybe(fc.constantFrom(...NUMBERS)),
    multipleOf: maybe(fc.constantFrom(...MULTIPLES)),
  })
  .map(defined);
const enumLeaf = fc.subarray(VALUES.slice(0, -3), { minLength: 1 }).map((values) => ({ enum: values }));
const leaves: fc.Arbitrary<Leaf> = fc.oneof(stringLeaf, numberLeaf, enumLeaf, fc.constant({ type: 'boolean' }), fc.constant({}));

/** A closed record schema, the shape of every source (additionalProperties false); with `open`, possibly open. */
const schemas = (open = false): fc.Arbitrary<RecordSchema> =>
  fc
    .record({
      properties: fc.dictionary(fc.constantFrom(...NAMES), leaves, { minKeys: 1, maxKeys: NAMES.length }),
      required: fc.subarray([...NAMES]),
      closed: open ? fc.boolean() : fc.constant(true),
    })
    .map(({ properties, required, closed }) => ({
      type: 'object' as const,
      properties,
      required: required.filter((name) => Object.hasOwn(properties, name)),
      ...(closed ? { additionalProperties: false as const } : {}),
    }));

/**
 * Candidate records: a value for each name (from both sides of every bound above), or none. Only
 * the names a schema declares are kept (`shaped`), so that most candidates are valid under it.
 */
const records = fc.array(fc.dictionary(fc.constantFrom(...NAMES), fc.constantFrom(...VALUES)), { minLength: 20, maxLength: 20 });
const shaped = (schema: RecordSchema, record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([name]) => Object.hasOwn(schema.properties, name)));

/** One edit a department might make to a schema to get its next version. */
const edits = fc.oneof(
  fc.record({ kind: fc.constant('add-optional' as const), name: fc.constantFrom(...NAMES, NEW), leaf: leaves }),
  fc.record({ kind: fc.constant('require' as const), name: fc.constantFrom(...NAMES) }),
  fc.record({ kind: fc.constant('unrequire' as const), name: fc.constantFrom(...NAMES) }),
  fc.record({ kind: fc.constant('remove' as const), name: fc.constantFrom(...NAMES) }),
  fc.record({ kind: fc.constant('replace' as const), name: fc.constantFrom(...NAMES), leaf: leaves }),
  fc.record({
    kind: fc.constant('keyword' as const),
    name: fc.constantFrom(...NAMES),
    keyword: fc.constantFrom('minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'enum'),
    value: fc.option(fc.oneof(fc.nat({ max: 5 }), fc.constantFrom(...NUMBERS, ...MULTIPLES), fc.subarray(STRINGS, { minLength: 1 })), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('close' as const), closed: fc.boolean() }),
);
type Edit = typeof edits extends fc.Arbitrary<infer E> ? E : never;

/** Keywords that apply to a leaf of these types (ajv's strict mode refuses the others). */
function applies(leaf: Leaf, keyword: string): boolean {
  const types = [leaf.type].flat();
  if (keyword === 'enum') return types.includes('string') || leaf.type === undefined;
  if (keyword === 'minLength' || keyword === 'maxLength') return types.includes('string');
  return types.includes('integer') || types.includes('number');
}

/** Whether `value` is a valid value of `keyword` (a schema ajv compiles). */
function fits(keyword: string, value: unknown): boolean {
  if (keyword === 'enum') return Array.isArray(value);
  if (typeof value !== 'number') return false;
  if (keyword === 'minLength' || keyword === 'maxLength') return Number.isInteger(value) && value >= 0;
  return keyword !== 'multipleOf' || value > 0;
}

function edited(schema: RecordSchema, edits: readonly Edit[]): RecordSchema {
  const next: RecordSchema = structuredClone(schema);
  for (const edit of edits) {
    if (edit.kind === 'close') {
      if (edit.closed) next.additionalProperties = false;
      else delete next.additionalProperties;
      continue;
    }
    const present = Object.hasOwn(next.properties, edit.name);
    if (edit.kind === 'add-optional' && !present) next.properties[edit.name] = edit.leaf;
    if (edit.kind === 'require' && present && !next.required.includes(edit.name)) next.required.push(edit.name);
    if (edit.kind === 'unrequire') next.required = next.required.filter((name) => name !== edit.name);
    if (edit.kind === 'remove' && present && Object.keys(next.properties).length > 1) {
      delete next.properties[edit.name];
      next.required = next.required.filter((name) => name !== edit.name);
    }
    if (edit.kind === 'replace' && present) next.properties[edit.name] = edit.leaf;
    if (edit.kind === 'keyword' && present && applies(next.properties[edit.name], edit.keyword)) {
      const leaf = next.properties[edit.name];
      if (edit.value === undefined) delete leaf[edit.keyword];
      else if (fits(edit.keyword, edit.value)) leaf[edit.keyword] = edit.value;
    }
  }
  return next;
}

const guard = new RecordSchemaGuard();
const validUnder = (schema: RecordSchema, record: unknown) => guard.compile(schema).validate(record).ok;
const compatible = (current: RecordSchema, next: RecordSchema) => checkCompatibility(current, next, []).compatible;

describe('checkCompatibility (property-based)', () => {
  it('keeps every record valid under the current version valid under a next version it judges compatible', () => {
    let judgedCompatible = 0;
    let recordsCarriedOver = 0;
    fc.assert(
      fc.property(schemas(), fc.array(edits, { minLength: 1, maxLength: 3 }), records, (current, changes, candidates) => {
        const next = edited(current, changes);
        if (!compatible(current, next)) return;
        judgedCompatible += 1;
        for (const record of candidates.map((r) => shaped(current, r)).filter((r) => validUnder(current, r))) {
          recordsCarriedOver += 1;
          expect({ record, valid: validUnder(next, record) }).toEqual({ record, valid: true });
        }
      }),
      { numRuns: 250 },
    );
    // The property said something: compatible versions and records they had to keep were generated.
    expect(judgedCompatible).toBeGreaterThan(25);
    expect(recordsCarriedOver).toBeGreaterThan(150);
  });

  it('keeps every multiple of the current multipleOf valid under a new multipleOf it judges compatible', () => {
    // ajv divides in binary floating point (0.3 / 0.1 is 2.9999999999999996), so this is not
    // plain arithmetic; the values are the first multiples as a department's system computes them.
    fc.assert(
      fc.property(fc.constantFrom(...MULTIPLES), fc.constantFrom(...MULTIPLES), (before, after) => {
        const current: RecordSchema = {
          type: 'object',
          properties: { a: { type: 'number', multipleOf: before } },
          required: ['a'],
          additionalProperties: false,
        };
        const next: RecordSchema = { ...current, properties: { a: { type: 'number', multipleOf: after } } };
        if (!compatible(current, next)) return;
        for (const record of Array.from({ length: 20 }, (_, k) => ({ a: k * before })).filter((r) => validUnder(current, r))) {
          expect({ record, valid: validUnder(next, record) }).toEqual({ record, valid: true });
        }
      }),
      { numRuns: 100 },
    );
  });

  it('judges a new optional property compatible, closed schema or open', () => {
    fc.assert(
      fc.property(schemas(true), leaves, (current, leaf) => {
        const next = { ...current, properties: { ...current.properties, [NEW]: leaf } };
        expect(checkCompatibility(current, next, [])).toEqual({ compatible: true, problems: [] });
      }),
      { numRuns: 200 },
    );
  });

  it('judges a new required property, or a property newly required, incompatible', () => {
    fc.assert(
      fc.property(schemas(true), leaves, fc.constantFrom(...NAMES, NEW), (current, leaf, name) => {
        fc.pre(!current.required.includes(name));
        const next = { ...current, properties: { [name]: leaf, ...current.properties }, required: [...current.required, name] };
        const report = checkCompatibility(current, next, []);
        expect(report.compatible).toBe(false);
        expect(report.problems).toContainEqual({ path: `/required/${current.required.length}`, reason: `"${name}" is newly required` });
      }),
      { numRuns: 200 },
    );
  });

  it('judges a narrowed maxLength, enum or type incompatible', () => {
    const narrowings = fc.oneof(
      fc.tuple(maybe(fc.integer({ min: 1, max: 5 })), fc.nat({ max: 4 })).map(([before, cut]) => ({
        before: defined({ type: 'string', maxLength: before }),
        after: { type: 'string', maxLength: before === undefined ? cut : Math.min(cut, before - 1) },
      })),
      fc
        .subarray(STRINGS, { minLength: 2 })
        .chain((values) =>
          fc
            .subarray(values, { maxLength: values.length - 1 })
            .map((kept) => ({ before: { enum: values }, after: { enum: kept.length > 0 ? kept : ['none'] } })),
        ),
      fc
        .constantFrom<[unknown, unknown]>(
          [['string', 'null'], 'string'],
          ['number', 'integer'],
          [['integer', 'null'], 'integer'],
          ['string', 'number'],
          ['boolean', 'string'],
        )
        .map(([before, after]) => ({ before: { type: before }, after: { type: after } })),
    );
    fc.assert(
      fc.property(schemas(true), fc.constantFrom(...NAMES), narrowings, (base, name, { before, after }) => {
        const current = { ...base, properties: { ...base.properties, [name]: before } };
        const next = { ...base, properties: { ...base.properties, [name]: after } };
        const report = checkCompatibility(current, next, []);
        expect(report.compatible).toBe(false);
        expect(report.problems.map((p) => p.path)).toContainEqual(expect.stringMatching(new RegExp(`^/properties/${name}/(maxLength|enum|type)$`)));
      }),
      { numRuns: 200 },
    );
  });
});
