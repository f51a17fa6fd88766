export type { SourceDescriptor, FetchedRecord, FetchContext, SourceAdapter } from './source-adapter.js';
export { FederatedSourceAdapter, FEDERATED_SOURCE_OPTIONS } from './federated-source-adapter.js';
export type { FederatedSourceOptions } from './federated-source-adapter.js';
export { ReplicaSourceAdapter } from './replica-source-adapter.js';
export { SourceAdapters } from './source-adapters.js';
export { SourcesModule } from './sources.module.js';
export { CircuitBreakers } from './circuit-breaker.js';
export type { CircuitState, CircuitBreakerOptions } from './circuit-breaker.js';
