/**
 * The Nest injection token of the whole DatarunConfig (PlatformModule provides it). A symbol, so
 * that libs reading their section by injection depend on this lib only, never on the HTTP platform.
 */
export const DATARUN_CONFIG = Symbol('DATARUN_CONFIG');
