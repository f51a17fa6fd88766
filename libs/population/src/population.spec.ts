import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { birthDateOf, genderOf, type IdNumber, isIdNumber } from '@datarun/identity';
import { RecordSchemaGuard } from '@datarun/schemas';
import { generatePopulation, type PersonSummary, type SourceRecord } from './population.js';

const SOURCES = {
  household: 'household',
  marriage: 'marriage',
  socialSecurity: 'social-security',
  property: 'property',
} as const;

const PEOPLE = 2_000;
const SEED = 42;
const ASOF = '2026-06-30';

const population = generatePopulation({ people: PEOPLE, seed: SEED });
const people = [...population.people()];
const records = {
  household: [...population.household()],
  marriage: [...population.marriage()],
  socialSecurity: [...population.socialSecurity()],
  property: [...population.property()],
};
const byId = <T extends object>(items: T[]): Map<string, T> => new Map(items.map((item) => [(item as { idNumber: string }).idNumber, item]));
const ageOn = (birthDate: string, day: string): number => Number(day.slice(0, 4)) - Number(birthDate.slice(0, 4)) - (day.slice(5) < birthDate.slice(5) ? 1 : 0);

describe('generatePopulation', () => {
  it('gives the same people and records for the same seed, and others for another seed', () => {
    const again = generatePopulation({ people: PEOPLE, seed: SEED });
    expect([...again.people()]).toEqual(people);
    expect([...again.household()]).toEqual(records.household);
    expect([...again.marriage()]).toEqual(records.marriage);
    expect([...again.socialSecurity()]).toEqual(records.socialSecurity);
    expect([...again.property()]).toEqual(records.property);
    const other = [...generatePopulation({ people: PEOPLE, seed: 43 }).people()];
    expect(other.map((p) => p.idNumber)).not.toEqual(people.map((p) => p.idNumber));
  });

  it('yields exactly the requested number of people, and a prefix of a larger population stays stable per household', () => {
    expect(people).toHaveLength(PEOPLE);
    expect(records.household).toHaveLength(PEOPLE);
    expect(records.marriage).toHaveLength(PEOPLE);
    const bigger = [...generatePopulation({ people: PEOPLE + 500, seed: SEED }).people()];
    // Only the last household may have been cut short.
    const lastHousehold = people[PEOPLE - 1]!.householdNumber;
    const stable = people.filter((p) => p.householdNumber !== lastHousehold);
    expect(bigger.slice(0, stable.length)).toEqual(stable);
  });

  // Laziness is what lets the sandbox and the seed stream a million people; how fast the first
  // record comes is the benchmark's business, not a test's (an eager generator would run into
  // Jest's timeout here rather than fail an assertion on the clock).
  it('is lazy: a million-person population yields its first records without building the rest', () => {
    const records = generatePopulation({ people: 1_000_000, seed: SEED }).household();
    const first = records.next();
    const second = records.next();
    expect(first.done).toBe(false);
    expect(second.done).toBe(false);
    expect((first.value as { idNumber: string }).idNumber).not.toBe((second.value as { idNumber: string }).idNumber);
  });

  it.each([0, -1, 1.5, 1_000_001, Number.NaN])('refuses %p people', (count) => {
    expect(() => generatePopulation({ people: count, seed: 1 })).toThrow(RangeError);
  });

  describe.each(Object.entries(SOURCES))('%s records', (stream, source) => {
    const guard = new RecordSchemaGuard();
    const schema = JSON.parse(readFileSync(join(process.cwd(), 'schemas', 'records', `${source}.json`), 'utf8')) as unknown;
    const compiled = guard.compile(schema);

    it(`all validate against schemas/records/${source}.json`, () => {
      const list = records[stream as keyof typeof records];
      expect(list.length).toBeGreaterThan(0);
      const invalid = list.flatMap((record) => {
        const verdict = compiled.validate(record);
        return verdict.ok ? [] : [{ record, errors: verdict.errors }];
      });
      expect(invalid.slice(0, 3)).toEqual([]);
    });

    it('are keyed by idNumber, one per person at most, in the order of people()', () => {
      const list = records[stream as keyof typeof records];
      const ids = list.map((r) => r.idNumber as string);
      expect(new Set(ids).size).toBe(ids.length);
      const order = new Map(people.map((p, i) => [p.idNumber, i]));
      const positions = ids.map((id) => order.get(id) ?? -1);
      expect(positions.every((pos, i) => pos >= 0 && (i === 0 || pos > positions[i - 1]!))).toBe(true);
    });
  });

  it('gives everyone a unique, valid ID number that agrees with their birth date and gender', () => {
    const ids = people.map((p) => p.idNumber);
    expect(new Set(ids).size).toBe(PEOPLE);
    const wrong = people.filter(
      (p) =>
        !isIdNumber(p.idNumber) ||
        birthDateOf(p.idNumber as IdNumber) !== p.birthDate ||
        genderOf(p.idNumber as IdNumber) !== p.gender ||
        !['330825', '330802', '330803', '330822', '330824', '330881'].includes(p.idNumber.slice(0, 6)) ||
        p.birthDate > ASOF ||
        p.birthDate < '1900-01-01',
    );
    expect(wrong).toEqual([]);
    expect(new Set(people.map((p) => p.idNumber.slice(0, 6))).size).toBe(6);
  });

  it('gives every person exactly one household record, and the summary agrees with it', () => {
    const households = byId(records.household);
    expect(households.size).toBe(PEOPLE);
    for (const person of people) {
      const record = households.get(person.idNumber);
      expect([person.idNumber, record && [record.name, record.gender, record.birthDate, record.householdNumber]]).toEqual([
        person.idNumber,
        [person.name, person.gender, person.birthDate, person.householdNumber],
      ]);
    }
  });

  it('groups 1 to 5 people per household with one head, one address and one police station', () => {
    const groups = new Map<string, SourceRecord[]>();
    for (const record of records.household) {
      const list = groups.get(record.householdNumber as string) ?? [];
      list.push(record);
      groups.set(record.householdNumber as string, list);
    }
    const sizes = new Set<number>();
    for (const [number, members] of groups) {
      sizes.add(members.length);
      expect([number, members.length >= 1 && members.length <= 5]).toEqual([number, true]);
      expect([number, members.filter((m) => m.householdHead === true).map((m) => m.relationToHead)]).toEqual([number, ['self']]);
      expect([number, new Set(members.map((m) => m.address)).size, new Set(members.map((m) => m.registrationAuthority)).size]).toEqual([number, 1, 1]);
    }
    expect([...sizes].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('registers marriages on both sides alike, between adults of opposite gender in the same household', () => {
    const marriages = byId(records.marriage);
    const households = byId(records.household);
    const married = records.marriage.filter((r) => r.maritalStatus === 'married');
    expect(married.length).toBeGreaterThan(PEOPLE * 0.3);
    for (const record of married) {
      const spouse = marriages.get(record.spouseIdNumber as string);
      const self = households.get(record.idNumber as string)!;
      const other = households.get(record.spouseIdNumber as string)!;
      expect(spouse).toBeDefined();
      expect([spouse!.maritalStatus, spouse!.spouseIdNumber, spouse!.spouseName, spouse!.registrationDate, spouse!.certificateNumber]).toEqual([
        'married',
        record.idNumber,
        record.name,
        record.registrationDate,
        record.certificateNumber,
      ]);
      expect(self.householdNumber).toBe(other.householdNumber);
      expect(self.gender).not.toBe(other.gender);
      // Both 20 or older on the registration date (a simplification: the law says 22 for men).
      expect(ageOn(self.birthDate as string, record.registrationDate as string)).toBeGreaterThanOrEqual(20);
      expect((record.registrationDate as string) <= ASOF).toBe(true);
    }
    const certificates = married.map((r) => r.certificateNumber);
    expect(new Set(certificates).size).toBe(married.length / 2);
    // The summary says the same.
    for (const person of people) expect(person.spouseIdNumber).toBe(marriages.get(person.idNumber)!.spouseIdNumber);
    const statuses = new Set(records.marriage.map((r) => r.maritalStatus));
    expect([...statuses].sort()).toEqual(['divorced', 'married', 'unmarried', 'widowed']);
    // Nobody under 20 has ever registered a marriage.
    for (const record of records.marriage) {
      const { birthDate } = households.get(record.idNumber as string)!;
      if (ageOn(birthDate as string, ASOF) < 20) expect(record.maritalStatus).toBe('unmarried');
    }
  });

  it('gives owners 1 or 2 units with unique unit numbers, shared only between spouses', () => {
    const owners = new Map<string, string[]>();
    for (const person of people) {
      expect(person.propertyUnits.length).toBeLessThanOrEqual(2);
      for (const unit of person.propertyUnits) owners.set(unit, [...(owners.get(unit) ?? []), person.idNumber]);
    }
    expect(people.filter((p) => p.propertyUnits.length > 0).length).toBeGreaterThan(PEOPLE * 0.2);
    expect(people.some((p) => p.propertyUnits.length === 2)).toBe(true);
    const summaries = byId(people);
    for (const [unit, ids] of owners) {
      expect(unit).toMatch(/^\d{12}[GJZ][ABSXCDEFWY]\d{5}[FLQW]\d{8}$/);
      expect(ids.length).toBeLessThanOrEqual(2);
      if (ids.length === 2) expect(summaries.get(ids[0]!)!.spouseIdNumber).toBe(ids[1]);
    }
    // The property record lists the same units, and shares of a unit add up to 1.
    const shares = new Map<string, number>();
    for (const record of records.property) {
      const units = (record.properties as { unitNumber: string; ownershipShare: number }[]).map((u) => u.unitNumber);
      expect(units).toEqual(summaries.get(record.idNumber as string)!.propertyUnits);
      for (const u of record.properties as { unitNumber: string; ownershipShare: number }[])
        shares.set(u.unitNumber, (shares.get(u.unitNumber) ?? 0) + u.ownershipShare);
    }
    expect([...shares.values()].every((total) => total === 1)).toBe(true);
  });

  it('has adult-only social-security and property records, plausible contributions and ~3 % on 低保', () => {
    const summaries = byId(people);
    const adults = people.filter((p) => ageOn(p.birthDate, ASOF) >= 18);
    expect(records.socialSecurity).toHaveLength(adults.length);
    expect(records.property).toHaveLength(adults.length);
    const lowIncome = records.socialSecurity.filter((r) => r.lowIncomeAssistance === true).length / adults.length;
    expect(lowIncome).toBeGreaterThan(0.01);
    expect(lowIncome).toBeLessThan(0.06);
    let withHistory = 0;
    for (const record of records.socialSecurity) {
      const person: PersonSummary = summaries.get(record.idNumber as string)!;
      const pension = record.pensionInsurance as { since: string; monthsPaid: number };
      const history = record.contributionHistory as { month: string; base: number; employer: string }[];
      expect(pension.since >= person.birthDate).toBe(true);
      expect(pension.since <= ASOF).toBe(true);
      expect(history.length).toBeLessThanOrEqual(36);
      expect(pension.monthsPaid).toBeGreaterThanOrEqual(history.length);
      const months = history.map((h) => h.month);
      expect(months).toEqual([...months].sort().reverse());
      expect(new Set(months).size).toBe(months.length);
      for (const entry of history) {
        expect(entry.month >= pension.since.slice(0, 7) && entry.month <= ASOF.slice(0, 7)).toBe(true);
        expect(entry.base).toBeGreaterThanOrEqual(3000);
        expect(entry.base).toBeLessThanOrEqual(25_000);
      }
      if (record.insuredStatus === 'active' && history.length > 0) expect(history[0]!.employer).toBe(record.employer ?? history[0]!.employer);
      if (history.length > 0) withHistory++;
    }
    expect(withHistory).toBeGreaterThan(adults.length * 0.3);
  });
});
