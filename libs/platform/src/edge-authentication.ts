import type { FastifyRequest } from 'fastify';
import type { RouteAccess } from './route-options.js';

/**
 * Who is calling, decided at the edge: createApp runs `admit` in an onRequest hook, before Fastify
 * reads the body, for every request but those of public routes (unmatched ones included). It
 * attaches the verified caller to the request or throws a Problem (401, 403, 429). @datarun/auth-guard
 * provides it; an app without it may only have public routes (createApp refuses to start otherwise).
 */
export abstract class EdgeAuthentication {
  abstract admit(request: FastifyRequest, access: RouteAccess | undefined): Promise<void>;
}
