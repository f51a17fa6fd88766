import { isProblemCode, PROBLEM_CODES, type ProblemCode } from '@datarun/problems';
import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type ResponseObject } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem-filter.js';

/**
 * The body ProblemFilter answers every error with (problemBody), as a JSON Schema: published once
 * as components/schemas/Problem and referenced by every problem answer. Closed, so an extension
 * member the code adds without documenting it here fails the response validation of the tests.
 */
export const PROBLEM_SCHEMA = {
  title: 'Problem',
  description: 'RFC 9457 problem details: how every error is answered, as application/problem+json.',
  type: 'object',
  additionalProperties: false,
  required: ['type', 'title', 'status', 'detail', 'code', 'correlationId', 'instance'],
  properties: {
    type: {
      type: 'string',
      pattern: '^urn:datarun:problem:[a-z]+(-[a-z]+)*$',
      description: 'A URN naming the code',
      examples: ['urn:datarun:problem:case-not-found'],
    },
    title: { type: 'string', description: 'Short and the same for every problem with this code' },
    status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status' },
    detail: { type: 'string', description: 'What went wrong this time; safe to show to the caller' },
    code: { enum: Object.keys(PROBLEM_CODES), description: 'The stable code of the public contract' },
    correlationId: { type: 'string', description: 'The request id (x-request-id, traceparent or made here): it is in every log line and audit record' },
    instance: { type: 'string', description: 'The path of the request' },
    errors: {
      type: 'array',
      description: 'VALIDATION_FAILED by a body schema: every violation',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'message'],
        properties: { path: { type: 'string', description: 'JSON Pointer into the body' }, message: { type: 'string' } },
      },
    },
    paths: {
      type: 'array',
      description: 'SCHEMA_INCOMPATIBLE: what would break current readers; SOURCE_RESPONSE_INVALID: the record paths that break the schema (never values)',
      items: {
        anyOf: [
          { type: 'string' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['path', 'reason'],
            properties: { path: { type: 'string' }, reason: { type: 'string' } },
          },
        ],
      },
    },
    auditId: { type: 'string', format: 'uuid', description: 'A refused or failed access: the audit record of the refusal' },
    retryAfter: { type: 'integer', minimum: 0, description: 'RATE_LIMITED: seconds to wait (also in the Retry-After header)' },
    failed: { type: 'array', items: { type: 'string' }, description: 'Readiness: the dependencies that did not answer' },
    checks: { type: 'object', description: 'Readiness: the report of every dependency' },
    rule: { type: 'string', description: 'ID_NUMBER_INVALID: the GB 11643 rule the number breaks; SCHEMA_INVALID: the rule the schema breaks' },
    path: { type: 'string', description: 'SCHEMA_INVALID: where in the schema (JSON Pointer)' },
    idNumber: { type: 'string', description: 'ID_NUMBER_INVALID: the number as given, masked' },
  },
} as const;

const CODE_TOKEN = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

/**
 * The codes a problem description names ("CASE_NOT_FOUND (also for another member's case)").
 * A name that is not a code of that status is a mistake in the contract: fail when the
 * controller is loaded, not in a client.
 */
export function problemCodesIn(status: number, description: string): ProblemCode[] {
  const codes = [...new Set(description.match(CODE_TOKEN) ?? [])];
  if (codes.length === 0) throw new Error(`problem answer ${status} "${description}" names no code`);
  for (const code of codes) {
    if (!isProblemCode(code)) throw new Error(`problem answer ${status} names ${code}, which is not a problem code`);
    if (PROBLEM_CODES[code][0] !== status) throw new Error(`problem answer ${status} names ${code}, which is ${PROBLEM_CODES[code][0]}`);
  }
  return codes as ProblemCode[];
}

/** The schema of a problem answer: a Problem with this status and one of these codes. */
export function problemSchema(status: number, codes: readonly ProblemCode[]) {
  return {
    allOf: [PROBLEM_SCHEMA, { type: 'object', properties: { status: { const: status }, code: { enum: [...codes] } } }],
  };
}

/** The codes an answer built by problemSchema admits (for adding the ones every route can give). */
export function problemCodesOf(response: ResponseObject): ProblemCode[] | undefined {
  const schema = response.content?.[PROBLEM_CONTENT_TYPE]?.schema as { allOf?: Array<{ properties?: { code?: { enum?: ProblemCode[] } } }> } | undefined;
  return schema?.allOf?.[1]?.properties?.code?.enum;
}

export function problemResponse(status: number, codes: readonly ProblemCode[], description: string): ResponseObject {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema(status, codes) as Record<string, unknown> } } };
}

/**
 * Documents the problem+json answers particular to a route, by status, with their codes and
 * when each happens. What every route can answer is added to the document by openApiDocument:
 * 401 and 429 where a token is needed, 400, 413 and 415 where a JSON body is read, 500 always.
 */
export function ApiProblems(...answers: Array<[status: number, codes: string]>) {
  return applyDecorators(
    ...answers.map(([status, description]) => ApiResponse({ status, ...problemResponse(status, problemCodesIn(status, description), description) })),
  );
}

/** A change audited in its own transaction (AuditLog.changeBy): no audit record, no change. */
export const CHANGE_NOT_AUDITED: [number, string] = [503, 'AUDIT_UNAVAILABLE: the change could not be audited, so it was not made'];
