import { generatePopulation, type Population } from '@datarun/population';
import { Problem } from '@datarun/problems';

/** The four departments the sandbox plays, each by its source id, and the population stream behind it. */
export const SANDBOX_DEPARTMENTS = ['household', 'marriage', 'social-security', 'property'] as const;
export type SandboxDepartment = (typeof SANDBOX_DEPARTMENTS)[number];

const STREAMS: Readonly<Record<SandboxDepartment, (p: Population) => Generator<Record<string, unknown>>>> = {
  household: (p) => p.household(),
  marriage: (p) => p.marriage(),
  'social-security': (p) => p.socialSecurity(),
  property: (p) => p.property(),
};

export const isSandboxDepartment = (source: string): source is SandboxDepartment => Object.hasOwn(STREAMS, source);

/**
 * The records of a deterministic synthetic population, indexed by ID number per department.
 * Records are kept as UTF-8 JSON rather than objects: a social-security record with three years
 * of contributions is a few hundred small objects, and the sandbox may hold 200,000 people.
 */
export class SyntheticDepartments {
  private index?: ReadonlyMap<SandboxDepartment, ReadonlyMap<string, Buffer>>;

  constructor(private readonly options: { readonly people: number; readonly seed: number }) {}

  /**
   * The record a department holds on a subject; RECORD_NOT_FOUND for an unknown department or
   * subject (children have no social-security or property record), as a department answers 404.
   */
  record(department: string, idNumber: string): Record<string, unknown> {
    const json = isSandboxDepartment(department) ? this.built().get(department)?.get(idNumber) : undefined;
    if (json === undefined) throw new Problem('RECORD_NOT_FOUND', 'this department holds no record of the subject');
    return JSON.parse(json.toString('utf8')) as Record<string, unknown>;
  }

  /** Built on first use: booting the sandbox stays instant, and a run that never asks pays nothing. */
  private built(): ReadonlyMap<SandboxDepartment, ReadonlyMap<string, Buffer>> {
    if (!this.index) {
      const population = generatePopulation(this.options);
      const index = new Map<SandboxDepartment, Map<string, Buffer>>();
      for (const department of SANDBOX_DEPARTMENTS) {
        const records = new Map<string, Buffer>();
        for (const record of STREAMS[department](population)) records.set(String(record.idNumber), Buffer.from(JSON.stringify(record), 'utf8'));
        index.set(department, records);
      }
      this.index = index;
    }
    return this.index;
  }
}
