import { z } from 'zod';
import { defineSection } from '../section.js';
import { baseUrl } from '../values.js';

export interface TransfersConfig {
  /** Where utilities reach the gateway for material links. */
  readonly gatewayPublicUrl: string;
  readonly materialLinkTtlSeconds: number;
  /** A request with no status after this long is flagged for follow-up on its case. */
  readonly followUpSeconds: number;
  /** Outbox rows per relay send, and the pause between polls when the outbox is empty. */
  readonly relayBatchSize: number;
  readonly relayPollMs: number;
  /** The outbox publisher's lease: a relay that stops renewing is replaced after this long. */
  readonly relayLeaseSeconds: number;
  /** Partitions of the topics the project creates. */
  readonly topicPartitions: number;
}

const variables = z.object({
  GATEWAY_PUBLIC_URL: z
    .string()
    .url()
    .optional()
    .describe(
      "Base URL at which recipients reach the gateway's material links (`GET /v1/materials/{id}`). Production: the gateway's address as the recipients see it.",
    ),
  MATERIAL_LINK_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86400)
    .default(6 * 3600)
    .describe('Lifetime of a material link in seconds (60 s to 7 days); a later fetch is `403 LINK_EXPIRED` and the request must be re-sent.'),
  TRANSFER_FOLLOW_UP_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(900)
    .describe('A utility request with no final status after this many seconds is flagged `followUp` on its case and counted in `datarun_transfers_overdue`.'),
  RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(1000).describe('Outbox rows the relay reads and sends per batch.'),
  RELAY_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(60000)
    .default(50)
    .describe('Milliseconds the relay waits before polling again when the outbox had less than a batch.'),
  RELAY_LEASE_SECONDS: z.coerce
    .number()
    .int()
    .min(3)
    .max(600)
    .default(10)
    .describe(
      "Seconds the active relay's outbox lease lasts; it renews it every third of that. A relay that stops (crash, pause, lost database connection) is replaced by a standby within this time, and from then on cannot mark rows published.",
    ),
  KAFKA_TOPIC_PARTITIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(6)
    .describe('Partitions of the topics datarun creates (recipient, status and records topics; the dead-letter and checkpoint topics have one).'),
});

export const TRANSFERS_SECTION = defineSection({
  name: 'transfers',
  owner: '@datarun/transfers (relay, material links) and @datarun/cases',
  variables,
  read: (v, { ports }): { readonly transfers: TransfersConfig } => ({
    transfers: {
      gatewayPublicUrl: baseUrl(v.GATEWAY_PUBLIC_URL ?? `http://127.0.0.1:${ports.gateway}`),
      materialLinkTtlSeconds: v.MATERIAL_LINK_TTL_SECONDS,
      followUpSeconds: v.TRANSFER_FOLLOW_UP_SECONDS,
      relayBatchSize: v.RELAY_BATCH_SIZE,
      relayPollMs: v.RELAY_POLL_MS,
      relayLeaseSeconds: v.RELAY_LEASE_SECONDS,
      topicPartitions: v.KAFKA_TOPIC_PARTITIONS,
    },
  }),
  derived: { GATEWAY_PUBLIC_URL: { from: 'GATEWAY_PORT', value: (c) => c.transfers.gatewayPublicUrl } },
});
