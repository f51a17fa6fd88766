import type { AppAbout } from '@datarun/platform';

/** The audit app's name and description: its logs, its OpenAPI document (served and committed in docs/openapi). */
export const AUDIT_ABOUT: AppAbout = {
  name: 'audit',
  description: 'Auditor- and citizen-facing: audit search, verification, checkpoints and reports.',
};
