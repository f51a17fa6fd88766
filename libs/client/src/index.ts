export { createDatarunClient } from './datarun-client.js';
export type {
  DatarunApi,
  DatarunAppName,
  DatarunApis,
  DatarunCall,
  DatarunClient,
  DatarunClientOptions,
  DatarunEndpoints,
  MemberCredentials,
} from './datarun-client.js';
export { DatarunProblem, UNEXPECTED_RESPONSE } from './problem.js';
export type * as AuditApi from './generated/audit.js';
export type * as GatewayApi from './generated/gateway.js';
export type * as RegistryApi from './generated/registry.js';
export type * as RelayApi from './generated/relay.js';
