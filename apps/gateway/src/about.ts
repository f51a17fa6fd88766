import type { AppAbout } from '@datarun/platform';

/** The gateway app's name and description: its logs, its OpenAPI document (served and committed in docs/openapi). */
export const GATEWAY_ABOUT: AppAbout = {
  name: 'gateway',
  description: 'Consumer-facing: cases, lookups, verifications and evidence bundles.',
};
