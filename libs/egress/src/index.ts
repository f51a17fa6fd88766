export { EgressPolicy, EgressRefused } from './egress-policy.js';
export type { EgressEntry, EgressResolver, EgressTarget } from './egress-policy.js';
export { EgressClient } from './egress-client.js';
export type { EgressRequest } from './egress-client.js';
export { egressPolicyOf } from './egress-of-config.js';
export { INTERNAL, NEVER_REACHABLE, isInternal, isNeverReachable, parseAddress, parseBlock } from './addresses.js';
export type { AddressBlock, IpAddress } from './addresses.js';
