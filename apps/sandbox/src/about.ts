import type { AppAbout } from '@datarun/platform';

/** The sandbox app's name and description: its logs, its OpenAPI document (served and committed in docs/openapi). */
export const SANDBOX_ABOUT: AppAbout = {
  name: 'sandbox',
  description: 'Simulated departments and utilities with synthetic data, for demos, tests and benchmarks.',
};
