import { z } from 'zod';
import { defineSection } from '../section.js';

/** Per member and per process: requests a second on average, and at once. */
export interface RateLimitConfig {
  readonly perSecond: number;
  readonly burst: number;
}

/** High enough that `npm run bench` never meets it; production refuses it (refuseDevelopmentDefaults). */
export const DEVELOPMENT_RATE_LIMIT = 100_000;

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
});

export const RATE_LIMIT_SECTION = defineSection({
  name: 'rate-limit',
  owner: '@datarun/auth-guard (every app that verifies tokens)',
  variables,
  read: (v): { readonly rateLimit: RateLimitConfig } => ({ rateLimit: { perSecond: v.RATE_LIMIT_PER_SECOND, burst: v.RATE_LIMIT_BURST } }),
});
