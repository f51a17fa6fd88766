import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { defineSection } from '../section.js';

/**
 * Half the cores, at least one: the gateway shares its machine with PostgreSQL (which does about
 * half of a lookup's work) in the deployments this default is for. Measured on two cores, a second
 * gateway process lowered the lookup rate (2,307 against 3,387 a second): the two processes take
 * the cores PostgreSQL needs, and each batches half as many lookups per statement.
 */
export function defaultGatewayWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / 2));
}

const variables = z.object({
  // The gateway is stateless and the audit chain serialises its writers itself, so several
  // gateway processes may share its port.
  GATEWAY_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .optional()
    .describe(
      'Gateway processes sharing its port (node:cluster); `/metrics` on any of them sums all. One Node process uses one core; the default leaves half the cores to PostgreSQL.',
    ),
});

export const GATEWAY_SECTION = defineSection({
  name: 'gateway',
  owner: 'the gateway app',
  variables,
  /** Processes the gateway runs on its one port. */
  read: (v): { readonly gatewayWorkers: number } => ({ gatewayWorkers: v.GATEWAY_WORKERS ?? defaultGatewayWorkers() }),
  derived: {
    // Not the value: it depends on the machine the documentation is generated on.
    GATEWAY_WORKERS: { from: 'half the cores this process may use, at least 1', value: () => undefined },
  },
});
