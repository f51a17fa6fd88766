import { Problem } from '@datarun/problems';
import { BadRequestException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { problemBody, toProblem } from './problem-filter.js';

describe('toProblem', () => {
  it('keeps a domain Problem with its code and extensions', () => {
    const { problem, internal } = toProblem(new Problem('SCHEMA_INCOMPATIBLE', 'breaks readers', { paths: ['/properties/a'] }));
    expect(internal).toBe(false);
    expect(problemBody(problem, 'c-1', '/v1/x')).toEqual({
      type: 'urn:datarun:problem:schema-incompatible',
      title: 'The schema version would break current readers',
      status: 400,
      detail: 'breaks readers',
      code: 'SCHEMA_INCOMPATIBLE',
      correlationId: 'c-1',
      instance: '/v1/x',
      paths: ['/properties/a'],
    });
  });

  it('does not let an extension overwrite the standard members', () => {
    const body = problemBody(new Problem('GRANT_MISSING', 'no grant', { status: 200, code: 'OK' }));
    expect(body.status).toBe(403);
    expect(body.code).toBe('GRANT_MISSING');
  });

  it.each([
    [new NotFoundException(), 404, 'NOT_FOUND'],
    [new BadRequestException('bad'), 400, 'VALIDATION_FAILED'],
    [new PayloadTooLargeException(), 413, 'PAYLOAD_TOO_LARGE'],
    [Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 413, 'PAYLOAD_TOO_LARGE'],
    [Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 }), 400, 'VALIDATION_FAILED'],
    [Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('maps %p to %i %s', (error, status, code) => {
    const { problem, internal } = toProblem(error);
    expect(internal).toBe(false);
    expect(problem.status).toBe(status);
    expect(problem.code).toBe(code);
  });

  it('hides the internals of an unknown error', () => {
    const { problem, internal } = toProblem(new Error('relation "secret_table" does not exist'));
    expect(internal).toBe(true);
    expect(problem.status).toBe(500);
    expect(problem.detail).not.toContain('secret_table');
  });
});
