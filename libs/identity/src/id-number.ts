import { Problem } from '@datarun/problems';

declare const idNumberBrand: unique symbol;

/** An 18-character resident ID number that passed every GB 11643 rule; the check character is upper case. */
export type IdNumber = string & { readonly [idNumberBrand]: true };

/** Which GB 11643 rule an input broke. */
export type IdNumberRule = 'type' | 'length' | 'characters' | 'region' | 'birth-date' | 'check-digit';

export interface IdNumberCheckOptions {
  /** The moment "the future" starts for the birth-date rule; now by default. */
  readonly now?: Date;
}

/** ISO 7064 MOD 11-2 weights for positions 1..17 (2^(18-i) mod 11). */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Check character indexed by the weighted sum mod 11. */
const CHECK_CHARS = '10X98765432';

/**
 * Province-level codes of GB/T 2260 (first two digits): 11-15, 21-23, 31-37, 41-46, 50-54, 61-65,
 * 71 (Taiwan), 81 (Hong Kong), 82 (Macao).
 */
const PROVINCES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
]);

const DIGIT_0 = 48;
const FIRST_YEAR = 1900;
/** China Standard Time has been UTC+8 without daylight saving since 1991. */
const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

const DETAILS: Record<IdNumberRule, string> = {
  type: 'The resident ID number must be a string of 18 characters.',
  length: 'The resident ID number must have a length of exactly 18 characters.',
  characters: 'The resident ID number must be 17 digits followed by a digit or X.',
  region: 'The resident ID number does not start with a valid province-level region code (GB/T 2260).',
  'birth-date': 'The resident ID number does not encode a real birth date between 1900-01-01 and today.',
  'check-digit': 'The check character of the resident ID number does not match its first 17 digits (ISO 7064 MOD 11-2).',
};

function isDigitCode(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_0 + 9;
}

function digitAt(value: string, index: number): number {
  return value.charCodeAt(index) - DIGIT_0;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Today's date in China as YYYYMMDD, comparable as a number with the encoded birth date. */
function todayInChina(now: Date): number {
  const shifted = new Date(now.getTime() + CST_OFFSET_MS);
  return shifted.getUTCFullYear() * 10000 + (shifted.getUTCMonth() + 1) * 100 + shifted.getUTCDate();
}

function weightedSum(first17: string): number {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += WEIGHTS[i]! * digitAt(first17, i);
  return sum;
}

/**
 * The first rule `value` breaks, or null when it is a valid ID number. Upper- or lower-case x is
 * accepted as the check character. Never throws, so that `isIdNumber` stays cheap in bulk.
 */
export function findIdNumberViolation(value: unknown, options: IdNumberCheckOptions = {}): IdNumberRule | null {
  if (typeof value !== 'string') return 'type';
  if (value.length !== 18) return 'length';
  for (let i = 0; i < 17; i++) if (!isDigitCode(value.charCodeAt(i))) return 'characters';
  const last = value.charCodeAt(17);
  const lastIsX = last === 88 /* X */ || last === 120; /* x */
  if (!isDigitCode(last) && !lastIsX) return 'characters';

  if (!PROVINCES.has(digitAt(value, 0) * 10 + digitAt(value, 1))) return 'region';

  const year = Number(value.slice(6, 10));
  const month = digitAt(value, 10) * 10 + digitAt(value, 11);
  const day = digitAt(value, 12) * 10 + digitAt(value, 13);
  if (year < FIRST_YEAR || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return 'birth-date';
  if (year * 10000 + month * 100 + day > todayInChina(options.now ?? new Date())) return 'birth-date';

  const expected = CHECK_CHARS.charCodeAt(weightedSum(value) % 11);
  if ((lastIsX ? 88 : last) !== expected) return 'check-digit';
  return null;
}

/** True when `value` is a valid resident ID number with an upper-case check character (as `checkIdNumber` returns it). */
export function isIdNumber(value: unknown, options?: IdNumberCheckOptions): value is IdNumber {
  return findIdNumberViolation(value, options) === null && (value as string).charCodeAt(17) !== 120;
}

/**
 * Checks an untrusted resident ID number against GB 11643-1999 and returns it with its check
 * character in upper case. Throws `Problem('ID_NUMBER_INVALID')` whose detail names the rule that
 * failed; the detail never contains the number itself (personal data), at most its masked form.
 */
export function checkIdNumber(value: unknown, options?: IdNumberCheckOptions): IdNumber {
  const rule = findIdNumberViolation(value, options);
  if (rule !== null) {
    const masked = rule === 'region' || rule === 'birth-date' || rule === 'check-digit' ? maskIdNumber(value as string) : undefined;
    throw new Problem('ID_NUMBER_INVALID', DETAILS[rule], masked ? { rule, idNumber: masked } : { rule });
  }
  return (value as string).toUpperCase() as IdNumber;
}

/** The ISO 7064 MOD 11-2 check character ("0"-"9" or "X") for the first 17 digits of an ID number. */
export function checkDigitOf(first17: string): string {
  let ok = first17.length === 17;
  for (let i = 0; ok && i < 17; i++) ok = isDigitCode(first17.charCodeAt(i));
  if (!ok) throw new Problem('ID_NUMBER_INVALID', 'A check character is computed from exactly 17 digits.', { rule: 'characters' });
  return CHECK_CHARS[weightedSum(first17) % 11]!;
}

/** The birth date an ID number encodes, as an ISO date (YYYY-MM-DD). */
export function birthDateOf(id: IdNumber): string {
  return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
}

/** The gender an ID number encodes: the 17th digit (顺序码's last digit) is odd for men, even for women. */
export function genderOf(id: IdNumber): 'male' | 'female' {
  return digitAt(id, 16) % 2 === 1 ? 'male' : 'female';
}

/**
 * The form of an ID number that may be shown or logged: region (first 6) and last 4 kept, the
 * birth date and sequence masked, e.g. `110105********002X`. A string of another length is masked
 * entirely, so that a malformed input (perhaps a number with a typo) is not leaked either.
 */
export function maskIdNumber(id: string): string {
  if (id.length === 18) return `${id.slice(0, 6)}********${id.slice(14)}`;
  return '*'.repeat(id.length);
}
