import { z } from 'zod';
import { defineSection } from '../section.js';

/** How the relay delivers requests to recipients registered with `delivery: webhook` (@datarun/transfers, webhooks). */
export interface WebhooksConfig {
  /** Attempts per request, the first included, before it is dead-lettered. */
  readonly maxAttempts: number;
  /** How long one request may be retried, from its first attempt, before it is dead-lettered. */
  readonly retryBudgetMs: number;
  /** How long one attempt may take, connection and answer included. */
  readonly timeoutMs: number;
  /** How often the relay re-reads the webhook recipients, so that one registered later is served. */
  readonly refreshMs: number;
  /** The key id the delivery key signs under (DATARUN_DELIVERY_SIGNING_KEY): a new one for each rotated key. */
  readonly deliveryKeyId: string;
}

const variables = z.object({
  WEBHOOK_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(8)
    .describe(
      "Attempts to deliver one request to a recipient's webhook, the first included: a 5xx, 408 or 429 answer, a timeout or a connection error is retried with exponential backoff and full jitter (200 ms doubling up to 30 s); after the last attempt the request is dead-lettered with the last reason.",
    ),
  WEBHOOK_RETRY_BUDGET_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(300)
    .describe(
      'Seconds one request may be retried, from its first attempt: a retry that would start later is not made, and the request is dead-lettered (replay it from the dead letters once the recipient is back). Meanwhile that recipient receives nothing else; other recipients are not held up.',
    ),
  WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(120_000)
    .default(5000)
    .describe('Milliseconds one webhook attempt may take, connection and answer included; a slower one is retried.'),
  WEBHOOK_REFRESH_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(5)
    .describe(
      'How often the relay re-reads the recipients registered with `delivery: webhook`: one registered (or whose endpoint changed, or suspended) since is served (or stopped) within this many seconds.',
    ),
  DATARUN_DELIVERY_KEY_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a key id of letters, digits, dots, dashes and underscores')
    .default('delivery')
    .describe(
      "The key id (`kid`) the relay's delivery key signs webhooks under, and that a PEM in DATARUN_DELIVERY_PUBLIC_KEY gets. To rotate: give the new key a new kid here, publish both public halves (a JWKS in DATARUN_DELIVERY_PUBLIC_KEY) until deliveries signed with the old one have been verified, then drop the old one.",
    ),
});

export const WEBHOOKS_SECTION = defineSection({
  name: 'webhooks',
  owner: "@datarun/transfers (the relay's webhook delivery)",
  variables,
  read: (v): { readonly webhooks: WebhooksConfig } => ({
    webhooks: {
      maxAttempts: v.WEBHOOK_MAX_ATTEMPTS,
      retryBudgetMs: v.WEBHOOK_RETRY_BUDGET_SECONDS * 1000,
      timeoutMs: v.WEBHOOK_TIMEOUT_MS,
      refreshMs: v.WEBHOOK_REFRESH_SECONDS * 1000,
      deliveryKeyId: v.DATARUN_DELIVERY_KEY_ID,
    },
  }),
});
