import type { AppAbout } from '@datarun/platform';

/** The relay app's name and description: its logs, its OpenAPI document (served and committed in docs/openapi). */
export const RELAY_ABOUT: AppAbout = {
  name: 'relay',
  description: 'Outbox to Kafka; Kafka to datarun (transfer status, record ingest).',
};
