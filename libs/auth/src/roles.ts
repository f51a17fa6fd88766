import { Problem } from '@datarun/problems';
import { type Caller, MEMBER_KINDS, type Role } from './types.js';

/** Refuses (403 ROLE_FORBIDDEN) a caller whose role is not one of `roles`. */
export function requireRole(caller: Caller, ...roles: readonly Role[]): void {
  if (!roles.includes(caller.role)) {
    throw new Problem('ROLE_FORBIDDEN', `this needs the role ${roles.join(' or ')}; the caller is ${caller.role}`);
  }
}

/**
 * Refuses (403 ROLE_FORBIDDEN) a caller that is not a registered member: a citizen's token reads
 * nothing of the registry (catalogue, members and their keys, sources, matters), which serves the
 * members' systems, not the public.
 */
export function requireMember(caller: Caller): void {
  requireRole(caller, ...MEMBER_KINDS);
}
