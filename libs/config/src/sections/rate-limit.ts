import { z } from 'zod';
import { defineSection } from '../section.js';

/** Per member (and per citizen) and per process: requests a second on average, and at once. */
export interface RateLimitConfig {
  readonly perSecond: number;
  readonly burst: number;
  /** Per remote address, before its token is verified: what an unauthenticated stranger can make us do. */
  readonly perAddress: { readonly perSecond: number; readonly burst: number };
}

/** High enough that `npm run bench` never meets it; production refuses it (refuseDevelopmentDefaults). */
export const DEVELOPMENT_RATE_LIMIT = 100_000;

/**
 * The per-address limit production runs on when it is not set: a real limit, above what one
 * service hall's system sends (the benchmark's 2,600 lookups a second come from one address and
 * run outside production, on the development value).
 */
export const PRODUCTION_ADDRESS_LIMIT = { perSecond: 1000, burst: 2000 } as const;

const variables = z.object({
  RATE_LIMIT_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEVELOPMENT_RATE_LIMIT)
    .describe(
      'Requests a second each member may make on average, per process (the cluster-wide limit is this times the replicas); above it `429 RATE_LIMITED` with `Retry-After`. The default never throttles the benchmark, and production refuses it: set what a member needs.',
    ),
  RATE_LIMIT_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEVELOPMENT_RATE_LIMIT)
    .describe("Requests a member may make at once, per process (the token bucket's size). Production refuses the default too."),
  RATE_LIMIT_PER_ADDRESS_PER_SECOND: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      `Requests a second one remote address may make on average, per process, counted before its token is verified (so a stranger cannot make the app verify signatures or look up issuers without limit); above it \`429 RATE_LIMITED\`. The address is the connection's peer: behind a load balancer, the balancer's. Unset: ${PRODUCTION_ADDRESS_LIMIT.perSecond} in production, the development limit elsewhere.`,
    ),
  RATE_LIMIT_PER_ADDRESS_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      `Requests one remote address may make at once, per process. Unset: ${PRODUCTION_ADDRESS_LIMIT.burst} in production, the development limit elsewhere.`,
    ),
});

export const RATE_LIMIT_SECTION = defineSection({
  name: 'rate-limit',
  owner: '@datarun/auth-guard (every app that verifies tokens)',
  variables,
  read: (v, { env }): { readonly rateLimit: RateLimitConfig } => {
    const production = env === 'production';
    return {
      rateLimit: {
        perSecond: v.RATE_LIMIT_PER_SECOND,
        burst: v.RATE_LIMIT_BURST,
        perAddress: {
          perSecond: v.RATE_LIMIT_PER_ADDRESS_PER_SECOND ?? (production ? PRODUCTION_ADDRESS_LIMIT.perSecond : DEVELOPMENT_RATE_LIMIT),
          burst: v.RATE_LIMIT_PER_ADDRESS_BURST ?? (production ? PRODUCTION_ADDRESS_LIMIT.burst : DEVELOPMENT_RATE_LIMIT),
        },
      },
    };
  },
  derived: {
    RATE_LIMIT_PER_ADDRESS_PER_SECOND: { from: 'NODE_ENV', value: (c) => String(c.rateLimit.perAddress.perSecond) },
    RATE_LIMIT_PER_ADDRESS_BURST: { from: 'NODE_ENV', value: (c) => String(c.rateLimit.perAddress.burst) },
  },
});
