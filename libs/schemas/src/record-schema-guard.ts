import { Injectable } from '@nestjs/common';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { Problem } from '@datarun/problems';
import { schemaFingerprint } from './canonical-json.js';
import { RECORD_FORMATS, addFormats } from './formats.js';
import { LinearPattern, linearRegExp } from './linear-pattern.js';
import { referenceCost, type SchemaCostRefusal, uniqueItemsCost } from './schema-cost.js';
import { pointerToken, toViolations } from './validation-errors.js';
import type { SchemaVerdict } from './validation-errors.js';

/** A department's record schema, checked and compiled once, ready for every record it receives. */
export interface CompiledRecordSchema {
  validate(record: unknown): SchemaVerdict;
  /** Top-level property names, in the schema's order. */
  readonly fields: string[];
  /** Top-level required property names. */
  readonly required: string[];
}

export const MAX_SCHEMA_BYTES = 64 * 1024;
export const MAX_SCHEMA_DEPTH = 32;
export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** Distinct schemas kept compiled; departments register a handful of versions each. */
const CACHE_LIMIT = 256;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Keywords that give a schema (or part of it) a name outside the document, or resolve one.
 * datarun identifies a schema by source and version, and never fetches anything while compiling.
 */
const REFUSED_KEYWORDS = new Set(['$id', '$anchor', '$dynamicRef', '$dynamicAnchor', '$recursiveRef', '$recursiveAnchor', '$vocabulary']);

/** What the value under a keyword of a schema object is, so that data (enum, const) is not read as schema. */
type NodeKind = 'schema' | 'schemaMap' | 'patternMap' | 'schemaArray' | 'data';

const CHILD_KIND: Readonly<Record<string, NodeKind>> = {
  properties: 'schemaMap',
  $defs: 'schemaMap',
  definitions: 'schemaMap',
  dependentSchemas: 'schemaMap',
  patternProperties: 'patternMap',
  additionalProperties: 'schema',
  items: 'schema',
  contains: 'schema',
  propertyNames: 'schema',
  if: 'schema',
  then: 'schema',
  else: 'schema',
  not: 'schema',
  unevaluatedItems: 'schema',
  unevaluatedProperties: 'schema',
  allOf: 'schemaArray',
  anyOf: 'schemaArray',
  oneOf: 'schemaArray',
  prefixItems: 'schemaArray',
};

function refuse(rule: string, path: string, why: string): never {
  throw new Problem('SCHEMA_INVALID', `${rule}: ${why} (at "${path}")`, { rule, path });
}

function refuseCost(refusal: SchemaCostRefusal | undefined): void {
  if (refusal) refuse(refusal.rule, refusal.path, refusal.why);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Compiles JSON Schemas written by departments (third parties) for the records they push or serve.
 *
 * ajv's defaults trust the schema author: remote `$ref`s can be loaded, `pattern` runs on the
 * backtracking RegExp engine (one crafted pattern hangs the event loop), huge or deep schemas
 * cost unbounded compile time, and some keywords cost more than linear time per record
 * (schema-cost.ts). This guard is the only way a department's schema reaches ajv: gates first,
 * on a JSON copy, then one strict ajv instance whose patterns run on RE2.
 */
@Injectable()
export class RecordSchemaGuard {
  private readonly ajv = new Ajv2020({
    strict: true,
    allowUnionTypes: true,
    $data: false,
    allErrors: false,
    validateSchema: true,
    addUsedSchema: false,
    ownProperties: true,
    useDefaults: false,
    coerceTypes: false,
    removeAdditional: false,
    logger: false,
    code: { regExp: linearRegExp, source: false },
  });
  private readonly compiled = new Map<string, CompiledRecordSchema>();

  constructor() {
    addFormats(this.ajv, RECORD_FORMATS);
  }

  /** Throws `Problem('SCHEMA_INVALID')` naming the rule and the path when the schema is refused. */
  compile(schema: unknown): CompiledRecordSchema {
    const copy = this.gate(schema);
    const key = schemaFingerprint(copy);
    const cached = this.compiled.get(key);
    if (cached) {
      // Refresh its place so that the least recently used schema is the one evicted.
      this.compiled.delete(key);
      this.compiled.set(key, cached);
      return cached;
    }
    const result = this.build(copy);
    this.compiled.set(key, result);
    if (this.compiled.size > CACHE_LIMIT) this.compiled.delete(this.compiled.keys().next().value as string);
    return result;
  }

  /** Every check that happens before ajv sees the schema; answers a JSON copy that is safe to compile. */
  private gate(schema: unknown): Record<string, unknown> {
    if (!isPlainObject(schema)) refuse('root', '', 'the schema must be a JSON object');
    let json: string;
    try {
      json = JSON.stringify(schema);
    } catch {
      refuse('json', '', 'the schema is not JSON (cycle, BigInt or too deep to serialize)');
    }
    const bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > MAX_SCHEMA_BYTES) refuse('size', '', `the schema is ${bytes} bytes as JSON, more than ${MAX_SCHEMA_BYTES}`);
    // A parsed copy: no getters, prototypes or shared references of the caller's object reach ajv,
    // and the cached validator cannot change when the caller mutates its object later.
    const copy = JSON.parse(json) as Record<string, unknown>;
    this.walk(copy, '', 0, 'schema', true);
    refuseCost(referenceCost(copy));

    if (copy.type !== 'object') refuse('root', '/type', 'the root must be "type": "object"');
    if (!isPlainObject(copy.properties) || Object.keys(copy.properties).length === 0) {
      refuse('root', '/properties', 'the root must declare its fields in "properties"');
    }
    return copy;
  }

  private walk(node: unknown, path: string, depth: number, kind: NodeKind, isRoot = false): void {
    if (depth > MAX_SCHEMA_DEPTH) refuse('depth', path, `the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`);
    if (Array.isArray(node)) {
      const itemKind = kind === 'schemaArray' ? 'schema' : 'data';
      node.forEach((item, index) => this.walk(item, `${path}/${index}`, depth + 1, itemKind));
      return;
    }
    if (!isPlainObject(node)) return;
    if (kind === 'schema') refuseCost(uniqueItemsCost(node, path));
    for (const [key, value] of Object.entries(node)) {
      const childPath = `${path}/${pointerToken(key)}`;
      if (FORBIDDEN_KEYS.has(key)) refuse('forbidden-key', childPath, `the key "${key}" is not allowed anywhere in a schema`);
      let childKind: NodeKind = 'data';
      if (kind === 'schema') {
        this.checkKeyword(key, value, childPath, isRoot);
        childKind = CHILD_KIND[key] ?? 'data';
      } else if (kind === 'schemaMap') {
        childKind = 'schema';
      } else if (kind === 'patternMap') {
        this.checkPattern(key, childPath);
        childKind = 'schema';
      }
      this.walk(value, childPath, depth + 1, childKind);
    }
  }

  private checkKeyword(keyword: string, value: unknown, path: string, isRoot: boolean): void {
    if (REFUSED_KEYWORDS.has(keyword)) {
      refuse('external-reference', path, `"${keyword}" names or resolves schemas outside this document; it is not accepted`);
    }
    if (keyword === '$ref') {
      if (typeof value !== 'string' || !(value === '#' || value.startsWith('#/'))) {
        refuse('external-reference', path, `"$ref" must be a JSON Pointer inside this document ("#/..."), got ${JSON.stringify(value)}`);
      }
    }
    if (keyword === '$schema' && (!isRoot || value !== DRAFT_2020_12)) {
      refuse('draft', path, `"$schema" may appear only at the root and must be "${DRAFT_2020_12}"`);
    }
    if (keyword === 'pattern' && typeof value === 'string') this.checkPattern(value, path);
  }

  private checkPattern(pattern: string, path: string): void {
    try {
      LinearPattern.compile(pattern);
    } catch (error) {
      refuse('pattern', path, `the pattern ${JSON.stringify(pattern)} cannot run on the linear-time engine (RE2): ${(error as Error).message}`);
    }
  }

  private build(copy: Record<string, unknown>): CompiledRecordSchema {
    let validator: ValidateFunction;
    try {
      validator = this.ajv.compile(copy);
    } catch (error) {
      refuse('json-schema', '', `the schema is not a valid strict draft 2020-12 schema: ${(error as Error).message}`);
    } finally {
      // The compiled function keeps what it needs; ajv's own per-object cache would only grow.
      this.ajv.removeSchema(copy);
    }
    const properties = copy.properties as Record<string, unknown>;
    const required = Array.isArray(copy.required) ? copy.required.filter((name): name is string => typeof name === 'string') : [];
    // Frozen: one compiled schema is shared by every caller that passes the same schema.
    return Object.freeze({
      fields: Object.freeze(Object.keys(properties)) as string[],
      required: Object.freeze(required) as string[],
      validate(record: unknown) {
        if (validator(record)) return { ok: true as const };
        return { ok: false as const, errors: toViolations(validator.errors) };
      },
    });
  }
}
