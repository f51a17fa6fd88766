import { z } from 'zod';
import { defineSection } from '../section.js';

/** The synthetic city (@datarun/population) the sandbox serves and `npm start` seeds: how many people, which seed. */
export interface SandboxConfig {
  readonly people: number;
  readonly seed: number;
}

const variables = z.object({
  SANDBOX_PEOPLE: z.coerce
    .number()
    .int()
    .min(100)
    .max(1_000_000, 'a whole number of people from 100 to 1000000')
    .default(2000)
    .describe('People of the synthetic city: the records the sandbox serves and that `npm start` loads into the four replica sources.'),
  SANDBOX_SEED: z.coerce
    .number()
    .int()
    .min(-2147483648)
    .max(2147483647)
    .default(42)
    .describe('Seed of the synthetic city: the same seed and size give the same people (the README walkthrough relies on the default).'),
});

export const SANDBOX_SECTION = defineSection({
  name: 'sandbox',
  owner: 'the sandbox app and the demo seed (@datarun/population)',
  variables,
  read: (v): { readonly sandbox: SandboxConfig } => ({ sandbox: { people: v.SANDBOX_PEOPLE, seed: v.SANDBOX_SEED } }),
});
