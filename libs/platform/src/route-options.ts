import type { Role } from '@datarun/auth';
import { applyDecorators } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { ApiSecurity } from '@nestjs/swagger';

/**
 * Who may call a route, as Fastify sees it before it reads the body: nobody needs a token
 * (`public`), or a verified caller of one of `roles` (`any`: every verified caller, the use case
 * decides what each may see). No declaration means `any` too; the route test asks for one.
 */
export type RouteAccess = { readonly public: true } | { readonly roles: readonly Role[] | 'any' };

/** What datarun puts in a route's Fastify `config`: read by the hooks of createApp. */
export interface DatarunRouteConfig {
  readonly access?: RouteAccess;
  /** The route's own body limit in bytes, instead of HTTP_BODY_LIMIT. */
  readonly bodyLimit?: number;
}

/**
 * Sets keys of the Fastify route config (Nest's @RouteConfig, which a second use would replace
 * rather than merge). On a method it sets them; on a controller, every route method that has not
 * set them itself (method decorators run first), so `@Roles('admin')` on a class is the default
 * its methods may narrow or widen.
 */
export function routeConfig(values: DatarunRouteConfig): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    if (descriptor) return mergeInto(descriptor.value as object, values, true);
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
      if (typeof method === 'function' && Reflect.hasMetadata(PATH_METADATA, method)) mergeInto(method, values, false);
    }
  };
}

function mergeInto(handler: object, values: DatarunRouteConfig, override: boolean): void {
  const current = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as Record<string, unknown>;
  const merged = override ? { ...current, ...values } : { ...values, ...current };
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, merged, handler);
}

/** The route's declaration, from its Fastify config. */
export function routeAccessOf(config: unknown): RouteAccess | undefined {
  return (config as DatarunRouteConfig | undefined)?.access;
}

export const PUBLIC_ACCESS: RouteAccess = Object.freeze({ public: true });

/**
 * Marks a controller or handler that needs no token (probes, metrics, signed links): the edge lets
 * its requests through unauthenticated, and the OpenAPI document shows an empty security
 * requirement (no credentials).
 */
export const PublicRoute = () => applyDecorators(routeConfig({ access: PUBLIC_ACCESS }), ApiSecurity({}));

/**
 * The roles that may call a route, checked at the edge with the token, before the body is read
 * or validated: a caller of another role gets 403 ROLE_FORBIDDEN whatever it sent. It mirrors the
 * use case's own check (which stays: use cases are called from elsewhere too), so it names the
 * same roles or fewer, never more.
 */
export const Roles = (...roles: readonly Role[]) => {
  if (roles.length === 0) throw new Error('@Roles() names at least one role; @AnyCaller() lets every verified caller in');
  return routeConfig({ access: Object.freeze({ roles: Object.freeze([...roles]) }) });
};

/**
 * Every verified caller may call the route, whatever its role: the use case answers each by what
 * it may see (a grant or checkpoint), as the same answer for all keeps a refusal from telling one
 * role what exists.
 */
export const AnyCaller = () => routeConfig({ access: Object.freeze({ roles: 'any' as const }) });

/** A body limit of the route's own (uploads), in bytes: the rest keep HTTP_BODY_LIMIT. */
export const BodyLimit = (bytes: number) => routeConfig({ bodyLimit: bytes });
