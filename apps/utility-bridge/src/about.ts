import type { AppAbout } from '@datarun/platform';

/** The utility-bridge app's name and description: its logs, its OpenAPI document (served and committed in docs/openapi). */
export const UTILITY_BRIDGE_ABOUT: AppAbout = {
  name: 'utility-bridge',
  description: 'Reference connector a utility runs: its transfer topic, its own system, the status topic.',
};
