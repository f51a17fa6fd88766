import { z } from 'zod';
import { defineSection } from '../section.js';
import { baseUrl } from '../values.js';

export interface BridgeConfig {
  /** The utility a bridge process serves (one process per kind). */
  readonly utilityKind: string;
  /** The utility's own system a bridge applies transfers to (the sandbox's simulation by default). */
  readonly utilitySystemUrl: string;
  /** A bridge commits its offsets every this many requests or this often (only for work already in its inbox). */
  readonly bridgeCommit: { readonly messages: number; readonly ms: number };
}

/** The sandbox's simulation of a utility's system: the development default, which production refuses. */
export function sandboxUtilitySystemUrl(sandboxPort: number, kind: string): string {
  return `http://127.0.0.1:${sandboxPort}/v1/utilities/${kind}`;
}

const variables = z.object({
  UTILITY_KIND: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,31}$/, 'a utility kind such as water, electricity or gas')
    .default('water')
    .describe(
      'The utility a bridge process serves: it consumes `datarun.utility.<kind>.transfer-requested.v1` and `…discount-requested.v1`. One bridge process per kind.',
    ),
  UTILITY_SYSTEM_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "The utility's own system a bridge applies requests to. The default is the sandbox's simulation of that utility, which production refuses: the utility's system.",
    ),
  BRIDGE_COMMIT_EVERY: z.coerce
    .number()
    .int()
    .min(1)
    .max(100_000)
    .default(20)
    .describe('A bridge commits its consumer offsets every this many requests (only for requests already recorded in its inbox).'),
  BRIDGE_COMMIT_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(1000).describe('…or at least this often, in milliseconds.'),
});

export const BRIDGE_SECTION = defineSection({
  name: 'bridge',
  owner: '@datarun/transfers (the reference utility bridge)',
  variables,
  read: (v, { ports }): BridgeConfig => ({
    utilityKind: v.UTILITY_KIND,
    utilitySystemUrl: baseUrl(v.UTILITY_SYSTEM_URL ?? sandboxUtilitySystemUrl(ports.sandbox, v.UTILITY_KIND)),
    bridgeCommit: { messages: v.BRIDGE_COMMIT_EVERY, ms: v.BRIDGE_COMMIT_INTERVAL_MS },
  }),
  derived: { UTILITY_SYSTEM_URL: { from: 'SANDBOX_PORT and UTILITY_KIND', value: (c) => c.utilitySystemUrl } },
});
