import { jsonEqual } from './canonical-json.js';
import { LinearPattern } from './linear-pattern.js';
import { pointerToken } from './validation-errors.js';

/** One reason a new schema version would break current readers: `path` points into the schema. */
export interface CompatibilityProblem {
  path: string;
  reason: string;
}

export interface CompatibilityReport {
  compatible: boolean;
  problems: CompatibilityProblem[];
}

type SchemaNode = Record<string, unknown> | false;

const LOWER_COUNTS = ['minLength', 'minItems', 'minProperties'] as const;
const UPPER_COUNTS = ['maxLength', 'maxItems', 'maxProperties'] as const;

/**
 * Keywords whose effect this check does not model. Changing or adding one is reported rather than
 * guessed at: a department can still do it in two steps (a compatible version, then a new source),
 * but a grant-holder's reader never breaks silently. Removing one only relaxes, and passes.
 */
const UNMODELLED = [
  '$ref',
  '$defs',
  'definitions',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'propertyNames',
  'contains',
  'minContains',
  'maxContains',
  'prefixItems',
  'unevaluatedItems',
  'unevaluatedProperties',
] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `true` and an absent schema accept everything, like `{}`. */
function normalize(schema: unknown): SchemaNode {
  if (schema === false) return false;
  return isObject(schema) ? schema : {};
}

function typesOf(schema: Record<string, unknown>): string[] | null {
  const type = schema.type;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  return null;
}

function accepts(types: readonly string[], type: string): boolean {
  return types.includes(type) || (type === 'integer' && types.includes('number'));
}

function allowedValues(schema: Record<string, unknown>): unknown[] | null {
  if (schema.const !== undefined) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : null;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

interface Bound {
  value: number;
  exclusive: boolean;
  keyword: string;
}

/** The effective bound from the inclusive and exclusive keywords together, the tighter of the two. */
function bound(schema: Record<string, unknown>, side: 'lower' | 'upper'): Bound | null {
  const [inclusive, exclusive] = side === 'lower' ? ['minimum', 'exclusiveMinimum'] : ['maximum', 'exclusiveMaximum'];
  const candidates: Bound[] = [];
  if (typeof schema[inclusive] === 'number') candidates.push({ value: schema[inclusive] as number, exclusive: false, keyword: inclusive });
  if (typeof schema[exclusive] === 'number') candidates.push({ value: schema[exclusive] as number, exclusive: true, keyword: exclusive });
  const sign = side === 'lower' ? 1 : -1;
  let tightest: Bound | null = null;
  for (const candidate of candidates) {
    if (!tightest || tighter(candidate, tightest, sign)) tightest = candidate;
  }
  return tightest;
}

/** Whether `a` excludes values that `b` allows; sign 1 for lower bounds, -1 for upper bounds. */
function tighter(a: Bound, b: Bound, sign: number): boolean {
  if (sign * a.value > sign * b.value) return true;
  return a.value === b.value && a.exclusive && !b.exclusive;
}

function describe(value: unknown): string {
  return JSON.stringify(value);
}

function patternMatches(pattern: string, name: string): boolean {
  try {
    return LinearPattern.compile(pattern).test(name);
  } catch {
    return false;
  }
}

class CompatibilityCheck {
  readonly problems: CompatibilityProblem[] = [];

  private report(path: string, reason: string): void {
    this.problems.push({ path, reason });
  }

  compare(currentSchema: unknown, nextSchema: unknown, path: string): void {
    const current = normalize(currentSchema);
    const next = normalize(nextSchema);
    if (current === false) return; // nothing was valid, so nothing can break
    if (next === false) {
      this.report(path, 'the new schema rejects every value the current one accepts');
      return;
    }
    if (jsonEqual(current, next)) return;

    this.compareTypes(current, next, path);
    this.compareValues(current, next, path);
    this.compareBounds(current, next, path);
    this.compareStrings(current, next, path);
    this.compareObjects(current, next, path);
    if (current.items !== undefined || next.items !== undefined) this.compare(current.items, next.items, `${path}/items`);
    for (const keyword of UNMODELLED) {
      if (next[keyword] !== undefined && !jsonEqual(current[keyword], next[keyword])) {
        this.report(`${path}/${keyword}`, `"${keyword}" was added or changed; datarun cannot prove that current records stay valid`);
      }
    }
  }

  private compareTypes(current: Record<string, unknown>, next: Record<string, unknown>, path: string): void {
    const nextTypes = typesOf(next);
    if (!nextTypes) return;
    // An enum or const of the current schema limits its types even without "type".
    const values = allowedValues(current);
    const currentTypes = typesOf(current) ?? (values ? [...new Set(values.map(jsonType))] : null);
    if (!currentTypes) {
      this.report(`${path}/type`, `the type is now restricted to ${describe(next.type)}; any type was allowed`);
      return;
    }
    const lost = currentTypes.filter((type) => !accepts(nextTypes, type));
    if (lost.length > 0) this.report(`${path}/type`, `the type was narrowed: ${describe(lost)} no longer accepted`);
  }

  private compareValues(current: Record<string, unknown>, next: Record<string, unknown>, path: string): void {
    const before = allowedValues(current);
    for (const keyword of ['enum', 'const'] as const) {
      if (next[keyword] === undefined) continue;
      const after = keyword === 'enum' ? (Array.isArray(next.enum) ? next.enum : []) : [next.const];
      if (!before) {
        this.report(`${path}/${keyword}`, `"${keyword}" now limits the values; any value was allowed`);
        continue;
      }
      const lost = before.filter((value) => !after.some((allowed) => jsonEqual(allowed, value)));
      if (lost.length > 0) this.report(`${path}/${keyword}`, `${describe(lost)} no longer allowed`);
    }
  }

  private compareBounds(current: Record<string, unknown>, next: Record<string, unknown>, path: string): void {
    for (const [side, sign] of [
      ['lower', 1],
      ['upper', -1],
    ] as const) {
      const after = bound(next, side);
      if (!after) continue;
      const before = bound(current, side);
      if (!before || tighter(after, before, sign)) {
        this.report(
          `${path}/${after.keyword}`,
          `the ${side} bound is now ${after.keyword} ${after.value}${before ? `, was ${before.keyword} ${before.value}` : ''}`,
        );
      }
    }
    for (const keyword of LOWER_COUNTS) {
      const after = next[keyword];
      const before = current[keyword];
      if (typeof after === 'number' && after > (typeof before === 'number' ? before : 0)) {
        this.report(`${path}/${keyword}`, `${keyword} raised to ${after}${typeof before === 'number' ? ` from ${before}` : ''}`);
      }
    }
    for (const keyword of UPPER_COUNTS) {
      const after = next[keyword];
      const before = current[keyword];
      if (typeof after === 'number' && (typeof before !== 'number' || after < before)) {
        this.report(`${path}/${keyword}`, `${keyword} lowered to ${after}${typeof before === 'number' ? ` from ${before}` : ''}`);
      }
    }
    if (typeof next.multipleOf === 'number' && next.multipleOf !== current.multipleOf) {
      // ajv tests that value / multipleOf is an integer in binary floating point, where 0.3 / 0.1
      // is 2.9999999999999996: a finer multipleOf keeps every value allowed before only when it
      // divides the old one exactly and dividing by it is exact (an integer or a power of two).
      const ratio = typeof current.multipleOf === 'number' ? current.multipleOf / next.multipleOf : Number.NaN;
      const exactDivisor = Number.isInteger(next.multipleOf) || Number.isInteger(Math.log2(next.multipleOf));
      if (!(Number.isInteger(ratio) && exactDivisor)) {
        this.report(`${path}/multipleOf`, `multipleOf ${next.multipleOf} rejects values allowed before`);
      }
    }
    if (next.uniqueItems === true && current.uniqueItems !== true) this.report(`${path}/uniqueItems`, 'items must now be unique');
  }

  private compareStrings(current: Record<string, unknown>, next: Record<string, unknown>, path: string): void {
    // Whether one regular expression accepts everything another does is not decidable in
    // general here; any change of pattern is treated as a narrowing.
    if (next.pattern !== undefined && next.pattern !== current.pattern) {
      this.report(
        `${path}/pattern`,
        `the pattern changed to ${describe(next.pattern)}${current.pattern === undefined ? '' : ` from ${describe(current.pattern)}`}`,
      );
    }
    if (next.format !== undefined && next.format !== current.format) {
      this.report(`${path}/format`, `the format is now ${describe(next.format)}`);
    }
  }

  private compareObjects(current: Record<string, unknown>, next: Record<string, unknown>, path: string): void {
    const required = new Set(Array.isArray(current.required) ? current.required : []);
    (Array.isArray(next.required) ? next.required : []).forEach((name, index) => {
      if (!required.has(name)) this.report(`${path}/required/${index}`, `${describe(name)} is newly required`);
    });

    const currentProperties = isObject(current.properties) ? current.properties : {};
    const nextProperties = isObject(next.properties) ? next.properties : {};
    const nextPatterns = isObject(next.patternProperties) ? next.patternProperties : {};
    const currentPatterns = isObject(current.patternProperties) ? current.patternProperties : {};

    for (const [name, schema] of Object.entries(currentProperties)) {
      const propertyPath = `${path}/properties/${pointerToken(name)}`;
      if (Object.hasOwn(nextProperties, name)) {
        this.compare(schema, nextProperties[name], propertyPath);
        continue;
      }
      // Removed: a current record that carries it now meets patternProperties or additionalProperties.
      const patterns = Object.keys(nextPatterns).filter((pattern) => patternMatches(pattern, name));
      for (const pattern of patterns) this.compare(schema, nextPatterns[pattern], `${path}/patternProperties/${pointerToken(pattern)}`);
      if (patterns.length > 0 || normalize(schema) === false) continue;
      if (next.additionalProperties === false) {
        this.report(propertyPath, `${describe(name)} was removed while additionalProperties is false: current records that carry it would be rejected`);
      } else if (next.additionalProperties !== undefined) {
        this.compare(schema, next.additionalProperties, `${path}/additionalProperties`);
      }
    }

    for (const [name, schema] of Object.entries(nextProperties)) {
      if (Object.hasOwn(currentProperties, name)) continue;
      // Added. A closed current schema had no record with it; an open one is taken at its word
      // (adding optional fields is compatible); an additionalProperties schema is compared.
      const patterns = Object.keys(currentPatterns).filter((pattern) => patternMatches(pattern, name));
      for (const pattern of patterns) this.compare(currentPatterns[pattern], schema, `${path}/properties/${pointerToken(name)}`);
      if (patterns.length === 0 && isObject(current.additionalProperties)) {
        this.compare(current.additionalProperties, schema, `${path}/properties/${pointerToken(name)}`);
      }
    }

    if (!jsonEqual(current.patternProperties, next.patternProperties) && next.patternProperties !== undefined) {
      this.report(`${path}/patternProperties`, '"patternProperties" was added or changed; datarun cannot prove that current records stay valid');
    }
    if (next.additionalProperties === false && current.additionalProperties !== false) {
      this.report(`${path}/additionalProperties`, 'additionalProperties is now false: current records may carry properties that are not declared');
    } else if (next.additionalProperties !== undefined && current.additionalProperties !== false) {
      this.compare(current.additionalProperties, next.additionalProperties, `${path}/additionalProperties`);
    }
  }

  /** Readers holding an approved grant rely on these fields by name and type. */
  checkGrantedFields(current: unknown, next: unknown, grantedFields: readonly string[]): void {
    const currentProperties = isObject(current) && isObject(current.properties) ? current.properties : {};
    const nextProperties = isObject(next) && isObject(next.properties) ? next.properties : {};
    for (const field of new Set(grantedFields)) {
      const path = `/properties/${pointerToken(field)}`;
      if (!Object.hasOwn(nextProperties, field)) {
        this.report(path, `${describe(field)} is named by an approved grant and was removed`);
        continue;
      }
      if (!Object.hasOwn(currentProperties, field)) continue;
      const before = typeKey(currentProperties[field]);
      const after = typeKey(nextProperties[field]);
      if (before !== after) this.report(`${path}/type`, `${describe(field)} is named by an approved grant; its type must stay ${before}, not ${after}`);
    }
  }
}

function typeKey(schema: unknown): string {
  const types = isObject(schema) ? typesOf(schema) : null;
  return types ? [...types].sort().join('|') : 'any';
}

/**
 * BACKWARD compatibility, as docs/api.md defines it: every record valid under `current` stays
 * valid under `next`, and every field named by an approved grant (top-level names) still exists
 * with the same type. Both schemas are expected to have passed RecordSchemaGuard.
 */
export function checkCompatibility(current: unknown, next: unknown, grantedFields: readonly string[]): CompatibilityReport {
  const check = new CompatibilityCheck();
  check.compare(current, next, '');
  check.checkGrantedFields(current, next, grantedFields);
  return { compatible: check.problems.length === 0, problems: check.problems };
}
