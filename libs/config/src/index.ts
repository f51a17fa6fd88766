export { loadConfig, ConfigError, DEFAULT_APP_ROLE, CONFIG_VARIABLES, DERIVED_DEFAULTS } from './config.js';
export type { DatarunConfig, DatabaseConfig, AppName, ConfigVariable } from './config.js';
export { MIN_NODE_MAJOR, requireSupportedNode, unsupportedNode } from './node-version.js';
