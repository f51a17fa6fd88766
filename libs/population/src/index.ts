export { DEFAULT_AS_OF, generatePopulation, MAX_PEOPLE } from './population.js';
export type { PersonSummary, Population, PopulationOptions, SourceRecord } from './population.js';
