import type { AppAbout } from '@datarun/platform';

/** The connector app's name and description: its logs, its OpenAPI document (served and committed in docs/openapi). */
export const CONNECTOR_ABOUT: AppAbout = {
  name: 'connector',
  description:
    "Connector a recipient member runs: its request topics, its own system, the status topic. Probes and metrics only; it needs no access to datarun's database.",
};
