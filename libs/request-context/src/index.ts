export { RequestContext } from './request-context.js';
export type { ContextCaller } from './request-context.js';
export { acceptedCorrelationId, correlationIdOf, mintCorrelationId, propagationHeaders, traceIdOf } from './correlation-id.js';
