import { PUBLIC_ROUTE } from '@datarun/platform';
import { type CanActivate, createParamDecorator, type ExecutionContext, Injectable } from '@nestjs/common';
import { RateLimiter } from './rate-limiter.js';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type Caller, TokenVerifier } from '@datarun/auth';
import { RequestContext } from '@datarun/request-context';

type AuthenticatedRequest = FastifyRequest & { caller?: Caller };

/**
 * Every route needs a verified token unless it is marked @PublicRoute(): fail closed. Then the
 * member's rate limit applies.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    request.caller = await this.verifier.verify(request.headers.authorization);
    // For the log lines of the rest of the request; use cases get the caller in their commands.
    RequestContext.attachCaller(request.caller);
    this.limiter.take(request.caller.memberId);
    return true;
  }
}

/** The verified caller of the request, for the controller to hand to a use case. */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a public route');
  return caller;
});
