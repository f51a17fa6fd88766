export { RecordSchemaGuard, MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH, DRAFT_2020_12 } from './record-schema-guard.js';
export { MAX_EXPANDED_SCHEMA_NODES, MAX_UNIQUE_NONSCALAR_ITEMS } from './schema-cost.js';
export type { CompiledRecordSchema } from './record-schema-guard.js';
export { compileTrusted } from './trusted-schema.js';
export type { TrustedValidator } from './trusted-schema.js';
export { checkCompatibility } from './compatibility.js';
export type { CompatibilityReport, CompatibilityProblem } from './compatibility.js';
export type { SchemaVerdict, SchemaViolation } from './validation-errors.js';
