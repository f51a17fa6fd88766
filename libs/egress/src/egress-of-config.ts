import { ConfigError, type DatarunConfig } from '@datarun/config';
import { EgressPolicy, type EgressResolver } from './egress-policy.js';

/** The configured policy (EGRESS_ALLOWLIST); an entry that is no host, address or block stops the app at boot. */
export function egressPolicyOf(config: DatarunConfig, options: { resolve?: EgressResolver } = {}): EgressPolicy {
  try {
    return EgressPolicy.of(config.egress.allowlist, options);
  } catch (error) {
    throw new ConfigError('EGRESS_ALLOWLIST', `host:port, address:port or CIDR:port entries; ${(error as Error).message}`, config.egress.allowlist.join(','));
  }
}
