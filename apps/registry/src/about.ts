import type { AppAbout } from '@datarun/platform';

/** The registry app's name and description: its logs, its OpenAPI document (served and committed in docs/openapi). */
export const REGISTRY_ABOUT: AppAbout = {
  name: 'registry',
  description: 'Department- and admin-facing: members, keys, sources, schema versions, grants, matters and record ingest.',
};
