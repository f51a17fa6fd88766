export { decideAccess } from './decide-access.js';
export type { EffectiveGrant, CaseFacts, AccessRequest, AccessDecision, DenialCode } from './decide-access.js';
export { minimiseRecord, maskIdNumberValue, maskPhoneValue } from './minimise.js';
export type { Classification } from './minimise.js';
