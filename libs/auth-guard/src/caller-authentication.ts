import { type AuditLog, auditRefusals } from '@datarun/audit';
import { type Caller, requireRole, type Role, type TokenVerifier } from '@datarun/auth';
import { EdgeAuthentication, type RouteAccess } from '@datarun/platform';
import { RequestContext } from '@datarun/request-context';
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { addressKey } from './address-key.js';
import type { RateLimiter } from './rate-limiter.js';

type AuthenticatedRequest = FastifyRequest & { caller?: Caller };

/**
 * The edge's check of every request to a route that is not @PublicRoute() (fail closed: unmatched
 * requests too), run by createApp before the body is read. In this order, each refusal cheaper
 * than the next step it saves: the remote address's rate limit (a stranger pays before we verify
 * a signature or look up an issuer), the token, the caller's own rate limit (each member, each
 * citizen), the route's roles (@Roles: 403 whatever the body says). A refusal by role is a refusal
 * of who is asking, which the audit log records (when the app has one) as the use case would
 * have: who, which route, ROLE_FORBIDDEN, and nothing of the body it never read.
 */
export class CallerAuthentication extends EdgeAuthentication {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly callers: RateLimiter,
    private readonly addresses: RateLimiter,
    private readonly audit?: AuditLog,
  ) {
    super();
  }

  async admit(request: FastifyRequest, access: RouteAccess | undefined): Promise<void> {
    this.addresses.take(addressKey(request.socket.remoteAddress), 'this address');
    const caller = await this.verifier.verify(request.headers.authorization);
    (request as AuthenticatedRequest).caller = caller;
    // For the log lines of the rest of the request; use cases get the caller in their commands.
    RequestContext.attachCaller(caller);
    if (caller.role === 'citizen') this.callers.take(`citizen:${caller.actor}`, 'this citizen');
    else this.callers.take(caller.memberId);
    if (access && 'roles' in access && access.roles !== 'any' && !access.roles.includes(caller.role))
      await this.requireRouteRole(request, caller, access.roles);
  }

  /** A refusal by role, recorded (auditRefusals) when the app has an audit log. */
  private async requireRouteRole(request: FastifyRequest, caller: Caller, roles: readonly Role[]): Promise<void> {
    const check = async () => requireRole(caller, ...roles);
    if (!this.audit) return check();
    await auditRefusals(this.audit, { caller, action: `${request.method} ${request.routeOptions.url ?? request.url}`, scope: 'authority' }, check);
  }
}

/** The verified caller of the request, for the controller to hand to a use case. */
export const CurrentCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a public route');
  return caller;
});
