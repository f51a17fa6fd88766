import { ApiResponse } from '@nestjs/swagger';

/** A JSON Schema (2020-12) of our own, as the OpenAPI 3.1 document publishes it. */
export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * Documents a success answer with the JSON Schema of its body. A schema (or a part of one) with a
 * `title` is published once under components/schemas/<title> and referenced wherever it occurs,
 * so an answer schema is written once, as a plain object beside the route's body schemas, and
 * the tests validate real answers against it. Without a schema: an answer with no body (204).
 * Several media types: the same schema for each (e.g. the bytes of a PDF or an image).
 */
export function ApiAnswer(status: number, description: string, schema?: JsonSchema, mediaTypes: string | readonly string[] = 'application/json') {
  return ApiAnswers(status, description, schema ? Object.fromEntries([mediaTypes].flat().map((type) => [type, schema])) : {});
}

/** An answer in several media types, each with its own schema (e.g. JSON pages or a CSV download). */
export function ApiAnswers(status: number, description: string, byMediaType: Readonly<Record<string, JsonSchema>>) {
  const content = Object.fromEntries(Object.entries(byMediaType).map(([type, schema]) => [type, { schema: schema as Record<string, unknown> }]));
  return ApiResponse({ status, description, ...(Object.keys(content).length > 0 ? { content } : {}) });
}

/**
 * A closed object: every property in `required` is always there, those in `optional` only
 * sometimes; anything else fails validation, so a field added to a view without the contract
 * fails a test instead of reaching clients undocumented.
 */
export function closedObject(required: Record<string, JsonSchema>, optional: Record<string, JsonSchema> = {}, annotations: JsonSchema = {}): JsonSchema {
  return {
    ...annotations,
    type: 'object',
    additionalProperties: false,
    required: Object.keys(required),
    properties: { ...required, ...optional },
  };
}

/** `schema` or JSON null. */
export const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });

/** A list page: `{items}` and, with a cursor, the `next` one. */
export const listOf = (item: JsonSchema, annotations: JsonSchema = {}): JsonSchema => closedObject({ items: { type: 'array', items: item } }, {}, annotations);

export const DATE_TIME = { type: 'string', format: 'date-time' } as const;
export const UUID = { type: 'string', format: 'uuid' } as const;
export const STRING = { type: 'string' } as const;
export const STRINGS = { type: 'array', items: STRING } as const;
export const COUNT = { type: 'integer', minimum: 0 } as const;
export const SHA256_HEX = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lower-case hex' } as const;
