import { Problem } from '@datarun/problems';

/** A time a list or statistics query names (`from`, `to`), or VALIDATION_FAILED naming it. */
export function queryTime(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new Problem('VALIDATION_FAILED', `${name} must be a date or date-time (ISO 8601)`);
  return new Date(at);
}
