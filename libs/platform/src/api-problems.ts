import { ApiResponse } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';

/** Documents the problem+json answers a route can give, by status, with their codes. */
export function ApiProblems(...answers: Array<[status: number, codes: string]>) {
  return applyDecorators(
    ApiResponse({ status: 401, description: 'application/problem+json: TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED' }),
    ...answers.map(([status, codes]) => ApiResponse({ status, description: `application/problem+json: ${codes}` })),
  );
}
