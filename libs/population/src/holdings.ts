import { daysFromCivil, pad, yearOf } from './calendar.js';
import { ADULT_AGE, ROADS, type Town } from './city.js';
import type { Dice } from './dice.js';
import type { PopulationModel } from './model.js';
import type { Household, Member } from './people.js';

// What a household's members own and how they are reached: property units and phone numbers.

// Math's functions as module bindings: under jest's vm contexts every global lookup goes through
// the sandbox's interceptors, which made a 100,000-person walk several times slower.
const { floor, max, min, round } = Math;

export function assignProperties(model: PopulationModel, household: Household, dice: Dice): void {
  const { county, index } = household;
  const adults = household.members.filter((m) => model.ageOf(m) >= ADULT_AGE);
  const head = household.members[0]!;
  let unitSeq = 1;
  const unitNumber = (town: Town, seq: number): string => {
    const zone = pad(county.towns.indexOf(town) + 1, 3) + pad((index % 97) + 1, 3);
    const parcel = town.urban ? 'GB' : 'JC';
    return `${county.code}${zone}${parcel}${pad(floor(index / 1000), 5)}F${pad((index % 1000) + 1, 4)}${pad(seq, 4)}`;
  };
  const certificate = (day: number, seq: number): string => `浙(${yearOf(day)})${county.estateIssuer}不动产权第${pad((index * 8 + seq) % 10_000_000, 7)}号`;
  const registeredBetween = (owners: Member[]): number => {
    const earliest = max(daysFromCivil(1998, 1, 1), ...owners.map((o) => model.birthdayAt(o, 20)));
    return dice.int(min(earliest, model.asOfDay - 1), model.asOfDay - 1);
  };

  // The home: owned by ~65 % of households whose head is an adult, jointly by a married head couple.
  if (!household.lowIncome && model.ageOf(head) >= 22 && dice.chance(0.65)) {
    const owners = head.spouse && dice.chance(0.7) ? [head, head.spouse] : [head];
    const day = registeredBetween(owners);
    const seq = unitSeq++;
    const unit = {
      unitNumber: unitNumber(household.town, seq),
      certificateNumber: certificate(day, seq),
      address: household.address,
      area: round(dice.int(5500, 18000)) / 100,
      usage: 'residential' as const,
      registeredDay: day,
    };
    for (const owner of owners) owner.units.push({ ...unit, ownershipShare: owners.length === 2 ? 0.5 : 1 });
  }
  // A second unit for some adults: a flat or a shop elsewhere in the county, solely owned.
  for (const adult of adults) {
    if (household.lowIncome || model.ageOf(adult) < 22 || !dice.chance(0.08)) continue;
    const town = dice.pick(county.towns);
    const commercial = dice.chance(0.35);
    const day = registeredBetween([adult]);
    const seq = unitSeq++;
    adult.units.push({
      unitNumber: unitNumber(town, seq),
      certificateNumber: certificate(day, seq),
      address: `${county.prefix}${town.name}${dice.pick(ROADS)}${dice.int(1, 300)}号${commercial ? '商铺' : `${dice.int(1, 20)}幢${dice.int(1, 18)}0${dice.int(1, 4)}室`}`,
      area: round(dice.int(commercial ? 2000 : 4500, commercial ? 15000 : 16000)) / 100,
      usage: commercial ? 'commercial' : 'residential',
      ownershipShare: 1,
      registeredDay: day,
    });
  }
}

/** Every head and most adults leave a phone number; some elderly people a landline (衢州: 0570). */
export function assignPhones(model: PopulationModel, household: Household, dice: Dice): void {
  for (const member of household.members) {
    const age = model.ageOf(member);
    if (age < ADULT_AGE || (member.relation !== 'self' && !dice.chance(0.7))) continue;
    member.phone =
      age > 70 && dice.chance(0.5) ? `0570-${dice.int(2_000_000, 8_999_999)}` : `1${dice.pick(['3', '5', '7', '8', '9'])}${pad(dice.int(0, 999_999_999), 9)}`;
  }
}
