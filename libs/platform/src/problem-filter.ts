import { Problem, type ProblemCode, isProblemCode, PROBLEM_CODES } from '@datarun/problems';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The RFC 9457 body datarun answers every error with. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  correlationId?: string;
  instance?: string;
  [extension: string]: unknown;
}

const BY_STATUS: Record<number, ProblemCode> = {
  400: 'VALIDATION_FAILED',
  401: 'TOKEN_INVALID',
  403: 'ROLE_FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** Turns anything thrown into a problem; `internal` marks the ones whose cause must only be logged. */
export function toProblem(error: unknown): { problem: Problem; internal: boolean } {
  if (error instanceof Problem) return { problem: error, internal: false };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const given = typeof response === 'object' && response !== null ? (response as Record<string, unknown>) : {};
    const code = typeof given.code === 'string' && isProblemCode(given.code) ? given.code : BY_STATUS[status];
    if (code) {
      const message = Array.isArray(given.message) ? given.message.join('; ') : String(given.message ?? error.message);
      return { problem: new Problem(code, message), internal: false };
    }
  }
  // Errors raised by Fastify while reading the request (body size, media type, malformed JSON).
  const fastify = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    const code = BY_STATUS[fastify.statusCode] ?? 'VALIDATION_FAILED';
    const detail = code === 'PAYLOAD_TOO_LARGE' ? 'The request body exceeds the limit of this endpoint' : (fastify.message ?? PROBLEM_CODES[code][1]);
    return { problem: new Problem(code, detail), internal: false };
  }
  return { problem: new Problem('INTERNAL_ERROR', 'An unexpected error occurred; the correlation id identifies it in the logs'), internal: true };
}

export function problemBody(problem: Problem, correlationId?: string, instance?: string): ProblemBody {
  return {
    ...problem.extensions,
    type: `urn:datarun:problem:${problem.code.toLowerCase().replaceAll('_', '-')}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    ...(correlationId ? { correlationId } : {}),
    ...(instance ? { instance } : {}),
  };
}

function bodyFollows(headers: { 'content-length'?: string; 'transfer-encoding'?: string }): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { problem, internal } = toProblem(error);
    if (internal) this.logger.error({ err: error, correlationId: request.id }, 'unhandled error');
    const path = request.url.split('?')[0];
    if (typeof problem.extensions.retryAfter === 'number') void reply.header('retry-after', String(problem.extensions.retryAfter));
    // Refused before its body was all received (a token, a role, a body limit, a media type): the
    // connection is closed, so the rest of a body nobody will read is not read either.
    if (!request.raw.complete && bodyFollows(request.headers)) void reply.header('connection', 'close');
    void reply
      .status(problem.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send(problemBody(problem, request.id, path));
  }
}
