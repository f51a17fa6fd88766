import { firstOfMonth, isoDate, monthLabel } from './calendar.js';
import { ADULT_AGE, BASE_CEILING, BASE_FLOOR, BRANDS, FLEXIBLE_EMPLOYMENT, HISTORY_MONTHS, INDUSTRIES, PUBLIC_EMPLOYERS, RETIREMENT_AGE } from './city.js';
import { Dice } from './dice.js';
import type { PopulationModel } from './model.js';
import type { Household, Member } from './people.js';
import type { PersonSummary, SourceRecord } from './population.js';

// The records of each source, one per member, and the summary tests and seeding use.

// Math's functions as module bindings: under jest's vm contexts every global lookup goes through
// the sandbox's interceptors, which made a 100,000-person walk several times slower.
const { floor, max, min, pow, round } = Math;

export function householdRecord(household: Household, member: Member): SourceRecord {
  const record: SourceRecord = {
    idNumber: member.idNumber,
    name: member.name,
    gender: member.gender,
    birthDate: member.birthDate,
    ethnicity: member.ethnicity,
    householdNumber: household.number,
    householdHead: member.relation === 'self',
    relationToHead: member.relation,
    address: household.address,
    registrationAuthority: `${household.county.policeBureau}${household.town.police}派出所`,
    updatedAt: household.updatedAt,
  };
  if (member.phone) record.phone = member.phone;
  return record;
}

export function marriageRecord(household: Household, member: Member): SourceRecord {
  const record: SourceRecord = { idNumber: member.idNumber, name: member.name, maritalStatus: member.marital };
  if (member.spouse) {
    record.spouseIdNumber = member.spouse.idNumber;
    record.spouseName = member.spouse.name;
  }
  if (member.registrationDay !== undefined) {
    record.registrationDate = isoDate(member.registrationDay);
    record.registrationAuthority = household.county.civilAffairs;
  }
  if (member.certificateNumber) record.certificateNumber = member.certificateNumber;
  return record;
}

/** Adults only; the contribution details come from their own dice so no stream disturbs another. */
export function socialSecurityRecord(model: PopulationModel, household: Household, member: Member): SourceRecord | undefined {
  const age = model.ageOf(member);
  if (age < ADULT_AGE) return undefined;
  const dice = Dice.of(model.seed, household.index, 2, member.index);
  const retireAge = RETIREMENT_AGE[member.gender];
  const retired = age >= retireAge;
  const asOfMonth = model.asOfMonth;
  const joinAge = dice.int(ADULT_AGE, min(28, age));
  // Insured from the month after joining, and not before the pension system reached everyone
  // (1992 in Zhejiang); earlier working years count as deemed contributions (视同缴费).
  const sinceMonth = min(asOfMonth, max(model.monthAtAge(member, joinAge) + 1, 1992 * 12));
  const kind = household.lowIncome
    ? dice.weighted([
        [3, 'resident'],
        [1, 'unemployed'],
      ] as const)
    : dice.weighted([
        [60, 'employee'],
        [10, 'flexible'],
        [8, 'unemployed'],
        [22, 'resident'],
      ] as const);
  const lowIncomeAssistance = household.lowIncome;
  const base: SourceRecord = { idNumber: member.idNumber, name: member.name };

  if (kind === 'resident' || sinceMonth >= asOfMonth) {
    // 城乡居民: resident medical insurance and the resident pension, paid once a year.
    const since = min(sinceMonth, asOfMonth);
    return {
      ...base,
      insuredStatus: 'active',
      pensionInsurance: { since: firstOfMonth(since), monthsPaid: min(1200, floor((asOfMonth - since) / 12) * 12) },
      medicalInsurance: { scheme: 'resident', since: firstOfMonth(since), status: 'active' },
      contributionHistory: [],
      lowIncomeAssistance,
    };
  }

  // Employees and flexible workers pay monthly until retirement, or until they lost their job.
  const retireMonth = model.monthAtAge(member, retireAge);
  let endMonth = retired ? min(retireMonth, asOfMonth) : asOfMonth;
  if (kind === 'unemployed') endMonth = max(sinceMonth, asOfMonth - dice.int(1, 30));
  if (endMonth < sinceMonth) endMonth = sinceMonth;
  // A retiree has the 15 years (180 months) a pension needs, deemed contributions included.
  const firstListed = max(sinceMonth, asOfMonth - HISTORY_MONTHS + 1);
  const listed = max(0, endMonth - firstListed + 1);
  // Flexible workers skip some months, but none of those the history lists.
  const skipped = kind === 'flexible' ? dice.int(0, 24) : 0;
  const monthsPaid = min(1200, max(endMonth - sinceMonth + 1 - skipped, listed, retired ? 180 : 1));
  const employer = kind === 'flexible' ? FLEXIBLE_EMPLOYMENT : employerOf(household, dice);
  const previous = kind === 'employee' && dice.chance(0.2) ? employerOf(household, dice) : undefined;
  const switchMonth = endMonth - dice.int(1, HISTORY_MONTHS - 1);
  const level = kind === 'flexible' ? 0 : dice.next();
  const history: SourceRecord[] = [];
  for (let month = endMonth; month >= firstListed; month--) {
    const year = floor(month / 12);
    const scale = pow(0.95, max(0, model.asOfYear - year));
    const lowest = BASE_FLOOR * scale;
    const highest = BASE_CEILING * scale;
    history.push({
      month: monthLabel(month),
      base: round(lowest + (highest - lowest) * level * level * 0.6),
      employer: previous && month < switchMonth ? previous : employer,
    });
  }
  const active = !retired && kind !== 'unemployed';
  const record: SourceRecord = {
    ...base,
    insuredStatus: active ? 'active' : 'suspended',
    pensionInsurance: { since: firstOfMonth(sinceMonth), monthsPaid },
    medicalInsurance: { scheme: 'employee', since: firstOfMonth(sinceMonth), status: kind === 'unemployed' ? 'suspended' : 'active' },
  };
  if (kind !== 'flexible') record.unemploymentInsurance = { since: firstOfMonth(sinceMonth), monthsPaid };
  if (active) record.employer = employer;
  record.contributionHistory = history;
  record.lowIncomeAssistance = lowIncomeAssistance;
  return record;
}

function employerOf(household: Household, dice: Dice): string {
  if (dice.chance(0.15)) return `${household.county.name}${dice.pick(PUBLIC_EMPLOYERS)}`;
  return `${household.county.name}${dice.pick(BRANDS)}${dice.pick(INDUSTRIES)}有限公司`;
}

export function propertyRecord(model: PopulationModel, household: Household, member: Member): SourceRecord | undefined {
  if (model.ageOf(member) < ADULT_AGE) return undefined;
  const latest = max(0, ...member.units.map((u) => u.registeredDay));
  return {
    idNumber: member.idNumber,
    name: member.name,
    properties: member.units.map((u) => ({
      unitNumber: u.unitNumber,
      certificateNumber: u.certificateNumber,
      address: u.address,
      area: u.area,
      usage: u.usage,
      ownershipShare: u.ownershipShare,
      registeredAt: isoDate(u.registeredDay),
    })),
    updatedAt: latest > 0 ? `${isoDate(latest)}T10:00:00+08:00` : household.updatedAt,
  };
}

export function summary(household: Household, member: Member): PersonSummary {
  const summary: PersonSummary = {
    idNumber: member.idNumber,
    name: member.name,
    gender: member.gender,
    birthDate: member.birthDate,
    householdNumber: household.number,
    propertyUnits: member.units.map((u) => u.unitNumber),
  };
  if (member.spouse) summary.spouseIdNumber = member.spouse.idNumber;
  return summary;
}
