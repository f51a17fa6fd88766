import { z } from 'zod';
import { defineSection } from '../section.js';

const variables = z.object({
  // The gateway is stateless and the audit chain serialises its writers itself, so several
  // gateway processes may share its port.
  GATEWAY_WORKERS: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe('Gateway processes sharing its port (node:cluster). One Node process uses one core; more help only where PostgreSQL has cores of its own.'),
});

export const GATEWAY_SECTION = defineSection({
  name: 'gateway',
  owner: 'the gateway app',
  variables,
  /** Processes the gateway runs on its one port. */
  read: (v): { readonly gatewayWorkers: number } => ({ gatewayWorkers: v.GATEWAY_WORKERS }),
});
