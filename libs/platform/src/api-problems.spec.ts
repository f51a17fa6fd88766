import { Problem, PROBLEM_CODES, type ProblemCode } from '@datarun/problems';
import { compileTrusted } from '@datarun/schemas';
import { PROBLEM_SCHEMA, problemCodesIn, problemSchema } from './api-problems.js';
import { problemBody } from './problem-filter.js';

// The Problem schema of the OpenAPI documents must be the body ProblemFilter really sends.
const validProblem = compileTrusted(PROBLEM_SCHEMA);

describe('the Problem schema', () => {
  it.each(Object.keys(PROBLEM_CODES) as ProblemCode[])('admits the body of %s as the filter sends it', (code) => {
    expect(validProblem(problemBody(new Problem(code, 'what happened'), 'corr-1', '/v1/cases'))).toEqual({ ok: true });
  });

  it.each([
    ['VALIDATION_FAILED', { errors: [{ path: '/parties/0/idNumber', message: 'must be string' }] }],
    ['SCHEMA_INCOMPATIBLE', { paths: [{ path: '/properties/name', reason: 'removed' }] }],
    ['SOURCE_RESPONSE_INVALID', { paths: ['/name'] }],
    ['SCHEMA_INVALID', { rule: 'remote-ref', path: '/properties/a/$ref' }],
    ['GRANT_MISSING', { auditId: '0b8f7a56-4d5e-4f3a-9c1b-2a3b4c5d6e7f' }],
    ['RATE_LIMITED', { retryAfter: 1 }],
    ['SERVICE_UNAVAILABLE', { failed: ['kafka'], checks: { kafka: { status: 'down' } } }],
    ['ID_NUMBER_INVALID', { rule: 'check-character', idNumber: '110105********002X' }],
  ] as Array<[ProblemCode, Record<string, unknown>]>)('admits the extension members %s carries', (code, extensions) => {
    expect(validProblem(problemBody(new Problem(code, 'x', extensions), 'corr-1', '/v1/x'))).toEqual({ ok: true });
  });

  it('refuses an extension member it does not document, a body without its correlation id, and an unknown code', () => {
    expect(validProblem(problemBody(new Problem('NOT_FOUND', 'x', { secret: 1 }), 'c', '/')).ok).toBe(false);
    expect(validProblem(problemBody(new Problem('NOT_FOUND', 'x'), undefined, '/')).ok).toBe(false);
    expect(validProblem({ ...problemBody(new Problem('NOT_FOUND', 'x'), 'c', '/'), code: 'NOT_A_CODE' }).ok).toBe(false);
  });

  it('narrows a route’s answer to its status and codes', () => {
    const check = compileTrusted(problemSchema(404, ['CASE_NOT_FOUND']));
    expect(check(problemBody(new Problem('CASE_NOT_FOUND', 'x'), 'c', '/')).ok).toBe(true);
    expect(check(problemBody(new Problem('MATTER_NOT_FOUND', 'x'), 'c', '/')).ok).toBe(false);
  });
});

describe('problemCodesIn', () => {
  it('reads the codes a description names, notes aside', () => {
    expect(problemCodesIn(404, 'CASE_NOT_FOUND (also for another member’s case), TRANSFER_NOT_FOUND')).toEqual(['CASE_NOT_FOUND', 'TRANSFER_NOT_FOUND']);
  });

  it.each([
    [404, 'CASE_NOT_FOUNDD', /not a problem code/],
    [400, 'CASE_NOT_FOUND', /which is 404/],
    [403, 'consumers only', /names no code/],
  ])('refuses %s "%s": a contract mistake fails when the controller loads', (status, description, message) => {
    expect(() => problemCodesIn(status, description)).toThrow(message);
  });
});
