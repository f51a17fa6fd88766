export { ExchangeService } from './exchange.service.js';
export type { LookupCommand, VerifyCommand, LookupAnswer, Provenance, BundleItem } from './exchange.service.js';
export { SourceDirectory } from './source-directory.js';
export { LookupsModule } from './lookups.module.js';
