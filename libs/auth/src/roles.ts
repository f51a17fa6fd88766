import { Problem } from '@datarun/problems';
import type { Caller, Role } from './types.js';

/** Refuses (403 ROLE_FORBIDDEN) a caller whose role is not one of `roles`. */
export function requireRole(caller: Caller, ...roles: readonly Role[]): void {
  if (!roles.includes(caller.role)) {
    throw new Problem('ROLE_FORBIDDEN', `this needs the role ${roles.join(' or ')}; the caller is ${caller.role}`);
  }
}
