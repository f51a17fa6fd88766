export type Classification = 'public' | 'internal' | 'sensitive' | 'secret';

const ID_NUMBER = /^\d{17}[\dXx]$/;
const MOBILE = /^1\d{10}$/;

/** 110105********002X: region and the last four, as on a printed receipt. */
export function maskIdNumberValue(value: string): string {
  return `${value.slice(0, 6)}${'*'.repeat(8)}${value.slice(14)}`;
}

/** 138****5678 */
export function maskPhoneValue(value: string): string {
  return `${value.slice(0, 3)}****${value.slice(7)}`;
}

/**
 * The answer a caller may see: only `fields`, and inside sensitive or secret fields every other
 * person's ID number and every mobile number masked, unless the grant unmasks that field. The
 * subject's own ID number is not masked: the caller asked with it.
 */
export function minimiseRecord(
  record: Readonly<Record<string, unknown>>,
  fields: readonly string[],
  classification: Readonly<Record<string, Classification | undefined>>,
  subject: string,
  unmasked: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (!Object.hasOwn(record, field)) continue;
    const level = classification[field];
    const masks = (level === 'sensitive' || level === 'secret') && !unmasked.includes(field);
    out[field] = masks ? maskIdentifiers(record[field], subject) : record[field];
  }
  return out;
}

function maskIdentifiers(value: unknown, subject: string): unknown {
  if (typeof value === 'string') {
    if (ID_NUMBER.test(value)) return value.toUpperCase() === subject ? value : maskIdNumberValue(value);
    if (MOBILE.test(value)) return maskPhoneValue(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => maskIdentifiers(v, subject));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskIdentifiers(v, subject)]));
  }
  return value;
}
