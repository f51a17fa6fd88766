export { checkIdNumber, isIdNumber, findIdNumberViolation, checkDigitOf, birthDateOf, genderOf, maskIdNumber } from './id-number.js';
export type { IdNumber, IdNumberRule, IdNumberCheckOptions } from './id-number.js';
