/**
 * A deterministic synthetic population of 衢州 (Quzhou, Zhejiang) for the sandbox, `npm start`
 * seeding, tests and benchmarks: households, marriages, social security and real estate that agree with each other
 * and validate against schemas/records/. Synthetic people only; every ID number passes GB 11643.
 *
 * Pure and lazy: no I/O, no Math.random, no clock. Every stream walks the households again from
 * the seed, and every household is rebuilt from (seed, household index) alone, so a million people
 * are never held in memory and each stream yields the same people in the same order.
 *
 * Simplifications, on purpose:
 * - Marriage needs both partners aged 20 or more at registration (the law says 22 for men).
 * - Spouses live in the same household; nobody is married to someone outside the population.
 * - Social-security and property records exist for adults (18 or over) only: the schemas require
 *   a pension enrolment, which children do not have. Adults without property get `properties: []`.
 * - Contribution histories list the last 36 months at most; `monthsPaid` counts every month.
 * - Birth days come from a 365-day calendar, so nobody is born on 29 February.
 * - The ID number's region is the county of the household.
 */
import { PopulationModel } from './model.js';
import type { Household, Member } from './people.js';
import { householdRecord, marriageRecord, propertyRecord, socialSecurityRecord, summary } from './records.js';

export interface PopulationOptions {
  /** How many people, 1 to 1,000,000. */
  readonly people: number;
  /** Any 32-bit integer; the same seed gives the same population. */
  readonly seed: number;
  /** The day the population is observed (ages, "now"); fixed so that output never depends on the clock. */
  readonly asOf?: string;
}

export interface PersonSummary {
  idNumber: string;
  name: string;
  gender: 'male' | 'female';
  birthDate: string;
  householdNumber: string;
  spouseIdNumber?: string;
  propertyUnits: string[];
}

export type SourceRecord = Record<string, unknown>;

export interface Population {
  readonly size: number;
  readonly seed: number;
  readonly asOf: string;
  people(): Generator<PersonSummary>;
  household(): Generator<SourceRecord>;
  marriage(): Generator<SourceRecord>;
  socialSecurity(): Generator<SourceRecord>;
  property(): Generator<SourceRecord>;
}

export const MAX_PEOPLE = 1_000_000;
export const DEFAULT_AS_OF = '2026-06-30';

function* each<T>(model: PopulationModel, build: (household: Household, member: Member) => T | undefined): Generator<T> {
  for (const household of model.households()) {
    for (const member of household.members) {
      const record = build(household, member);
      if (record !== undefined) yield record;
    }
  }
}

/**
 * A synthetic population of `people` residents of six 衢州 counties. Each method starts a new
 * walk; records come household by household, in the same order for every stream.
 */
export function generatePopulation(options: PopulationOptions): Population {
  const { people, seed, asOf = DEFAULT_AS_OF } = options;
  if (!Number.isInteger(people) || people < 1 || people > MAX_PEOPLE) {
    throw new RangeError(`people must be an integer from 1 to ${MAX_PEOPLE}, got ${people}`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`)) || asOf < '1990-01-01') {
    throw new RangeError(`asOf must be a date (YYYY-MM-DD) from 1990 on, got ${asOf}`);
  }
  const model = new PopulationModel(people, seed | 0, asOf);
  return {
    size: people,
    seed,
    asOf,
    people: () => each(model, summary),
    household: () => each(model, householdRecord),
    marriage: () => each(model, marriageRecord),
    socialSecurity: () => each(model, (h, m) => socialSecurityRecord(model, h, m)),
    property: () => each(model, (h, m) => propertyRecord(model, h, m)),
  };
}
