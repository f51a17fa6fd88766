// The audit log's integrity core: canonical bytes, RFC 6962 Merkle tree, hash chain, signed
// checkpoints. Pure functions over Buffers; no database, no Nest.
export * from './canonical.js';
export * from './merkle.js';
export * from './chain.js';
export * from './checkpoint.js';
