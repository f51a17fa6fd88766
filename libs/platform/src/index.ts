export { PlatformModule, DATARUN_CONFIG } from './platform.module.js';
export type { PlatformOptions } from './platform.module.js';
export { createApp, runApp, routesOf } from './bootstrap.js';
export type { AppOptions, RegisteredRoute } from './bootstrap.js';
export { ProblemFilter, toProblem, problemBody, PROBLEM_CONTENT_TYPE } from './problem-filter.js';
export type { ProblemBody } from './problem-filter.js';
export { Metrics } from './metrics.js';
export { correlationIdOf } from './correlation.js';
export type { Dependency } from './health.js';
