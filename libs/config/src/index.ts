export { loadConfig, ConfigError, DEFAULT_APP_ROLE } from './config.js';
export type { DatarunConfig, DatabaseConfig, AppName } from './config.js';
export { MIN_NODE_MAJOR, requireSupportedNode, unsupportedNode } from './node-version.js';
