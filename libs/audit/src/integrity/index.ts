// The audit log's integrity core: canonical bytes, RFC 6962 Merkle tree, hash chain, signed
// checkpoints, shared by the writer (audit-log.ts) and the verifier (range-verifier.ts). Pure
// functions over Buffers, with latin1 forms for the per-record loops (see merkle.ts); no database,
// no Nest.
export * from './canonical.js';
export * from './merkle.js';
export * from './merkle-range.js';
export * from './chain.js';
export * from './checkpoint.js';
