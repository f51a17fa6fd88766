import { checkDigitOf } from '@datarun/identity';
import { daysFromCivil, isoDate, monthDayOf, pad, yearOf } from './calendar.js';
import { ADULT_AGE, COUNTIES, GIVEN_FEMALE, GIVEN_MALE, LOW_INCOME_SHARE, MARRIAGE_AGE, ROADS, SURNAMES, VILLAGES } from './city.js';
import { Dice, mix } from './dice.js';
import { assignPhones, assignProperties } from './holdings.js';
import type { Gender, Household, MaritalStatus, Member, Relation } from './people.js';

// Math's functions as module bindings: under jest's vm contexts every global lookup goes through
// the sandbox's interceptors, which made a 100,000-person walk several times slower.
const { abs, floor, max, min } = Math;

/** Walks the households; each stream makes its own walker. */
export class PopulationModel {
  readonly asOfDay: number;
  readonly asOfYear: number;
  readonly asOfMonth: number;
  readonly asOfParts: readonly [number, number, number];

  constructor(
    readonly size: number,
    readonly seed: number,
    readonly asOf: string,
  ) {
    const [y, m, d] = asOf.split('-').map(Number) as [number, number, number];
    this.asOfDay = daysFromCivil(y, m, d);
    this.asOfYear = y;
    this.asOfMonth = y * 12 + m - 1;
    this.asOfParts = [y, m, d];
  }

  *households(): Generator<Household> {
    // Per-county person counters: a person's slot within the county makes its ID number unique.
    const slots = new Array<number>(COUNTIES.length).fill(0);
    let remaining = this.size;
    for (let index = 0; remaining > 0; index++) {
      const household = this.buildHousehold(index, remaining, slots);
      remaining -= household.members.length;
      yield household;
    }
  }

  private buildHousehold(index: number, remaining: number, slots: number[]): Household {
    const dice = Dice.of(this.seed, index, 1);
    const countyIndex = index % COUNTIES.length;
    const county = COUNTIES[countyIndex]!;
    const town = dice.pick(county.towns);
    const address = town.urban
      ? `${county.prefix}${town.name}${dice.pick(ROADS)}${dice.int(1, 300)}号${dice.int(1, 20)}幢${dice.int(1, 18)}0${dice.int(1, 4)}室`
      : `${county.prefix}${town.name}${dice.pick(VILLAGES)}村${dice.int(1, 150)}号`;
    const size = min(
      remaining,
      dice.weighted([
        [15, 1],
        [25, 2],
        [30, 3],
        [20, 4],
        [10, 5],
      ] as const),
    );
    const ethnicity = dice.weighted([
      [985, '汉族'],
      [12, '畲族'],
      [3, '回族'],
    ] as const);

    const household: Household = {
      index,
      county,
      town,
      address,
      number: `3${countyIndex}${pad(index, 7)}`,
      members: [],
      lowIncome: dice.chance(LOW_INCOME_SHARE),
      updatedAt: this.timestamp(dice, this.asOfDay - dice.int(0, 1500)),
    };
    const add = (relation: Relation, gender: Gender, birthYear: number, surname?: string): Member => {
      const member = this.newMember(household, slots, dice, relation, gender, birthYear, surname ?? dice.pick(SURNAMES), ethnicity);
      household.members.push(member);
      return member;
    };
    const Y = this.asOfYear;
    const headGender: Gender = dice.chance(0.7) ? 'male' : 'female';
    const other = (g: Gender): Gender => (g === 'male' ? 'female' : 'male');

    // A couple: the head and a spouse a few years apart (the husband usually older).
    const couple = (minAge: number, maxAge: number): [Member, Member] => {
      const headYear = Y - dice.int(minAge, maxAge);
      const gap = dice.int(-1, 5);
      const head = add('self', headGender, headYear);
      const spouseYear = headGender === 'male' ? headYear + gap : headYear - gap;
      const spouse = add('spouse', other(headGender), min(spouseYear, Y - MARRIAGE_AGE - 2));
      return [head, spouse];
    };
    const fatherSurname = (a: Member, b: Member): string => (a.gender === 'male' ? a.surname : b.surname);
    const childYears: number[] = [];
    const child = (parents: Member[], relation: Relation = 'child', maxAge = 35): Member => {
      const mother = parents.find((p) => p.gender === 'female') ?? parents[0]!;
      const father = parents.find((p) => p.gender === 'male');
      const motherYear = mother.birthYear;
      const earliest = max(motherYear + 20, mother.registrationDay ? yearOf(mother.registrationDay) + 1 : 0, Y - maxAge);
      const latest = min(motherYear + 40, Y - 1);
      // Siblings are born at least two years apart (different years alone could mean a month).
      let year = dice.int(min(earliest, latest), latest);
      for (let attempt = 0; attempt < 6 && childYears.some((other) => abs(other - year) < 2); attempt++) year = dice.int(min(earliest, latest) - 2, latest);
      childYears.push(year);
      return add(relation, dice.chance(0.52) ? 'male' : 'female', year, father?.surname ?? mother.surname);
    };
    const parentsOf = (head: Member, both: boolean): Member[] => {
      const fatherYear = max(1906, head.birthYear - dice.int(22, 34));
      if (both) {
        const father = add('parent', 'male', fatherYear, head.gender === 'male' ? head.surname : undefined);
        const mother = add('parent', 'female', min(fatherYear + dice.int(0, 4), head.birthYear - 20));
        this.marry(household, dice, father, mother, 1);
        return [father, mother];
      }
      const widow = add('parent', dice.chance(0.7) ? 'female' : 'male', fatherYear + dice.int(0, 3));
      this.single(household, dice, widow, 'widowed');
      return [widow];
    };

    switch (size) {
      case 1: {
        const head = add('self', headGender, Y - dice.int(20, 90));
        const age = Y - head.birthYear;
        this.single(
          household,
          dice,
          head,
          age < 30
            ? 'unmarried'
            : dice.weighted([
                [3, 'unmarried'],
                [3, 'divorced'],
                [age > 55 ? 6 : 1, 'widowed'],
              ] as const),
        );
        break;
      }
      case 2: {
        const kind = dice.weighted([
          [60, 'couple'],
          [25, 'single-parent'],
          [15, 'with-parent'],
        ] as const);
        if (kind === 'couple') {
          const [head, spouse] = couple(22, 85);
          this.marry(household, dice, head, spouse, 0);
        } else if (kind === 'single-parent') {
          const head = add('self', headGender, Y - dice.int(28, 60));
          this.single(household, dice, head, dice.chance(0.7) ? 'divorced' : 'widowed');
          child([head]);
        } else {
          const head = add('self', headGender, Y - dice.int(25, 60));
          this.single(household, dice, head, dice.chance(0.6) ? 'unmarried' : 'divorced');
          parentsOf(head, false);
        }
        break;
      }
      case 3: {
        const kind = dice.weighted([
          [70, 'kid'],
          [20, 'with-parent'],
          [10, 'single-parent'],
        ] as const);
        if (kind === 'single-parent') {
          const head = add('self', headGender, Y - dice.int(30, 60));
          this.single(household, dice, head, dice.chance(0.7) ? 'divorced' : 'widowed');
          child([head]);
          child([head]);
        } else {
          const [head, spouse] = couple(23, kind === 'kid' ? 65 : 58);
          this.marry(household, dice, head, spouse, 0);
          if (kind === 'kid') child([head, spouse]);
          else parentsOf(head, false);
        }
        break;
      }
      case 4: {
        const kind = dice.weighted([
          [60, 'two-kids'],
          [25, 'kid-and-parent'],
          [15, 'parents'],
        ] as const);
        const [head, spouse] = couple(25, 58);
        this.marry(household, dice, head, spouse, 0);
        if (kind === 'two-kids') {
          child([head, spouse]);
          child([head, spouse]);
        } else if (kind === 'kid-and-parent') {
          child([head, spouse]);
          parentsOf(head, false);
        } else {
          parentsOf(head, true);
        }
        break;
      }
      default: {
        const kind = dice.weighted([
          [40, 'kids-and-parent'],
          [30, 'kid-and-parents'],
          [30, 'three-generations'],
        ] as const);
        if (kind === 'three-generations') {
          // The head's married son or daughter lives in with a spouse (childInLaw) and a grandchild.
          const [head, spouse] = couple(50, 75);
          this.marry(household, dice, head, spouse, 0);
          const son = child([head, spouse], 'child', 45);
          // The married child must be old enough to have married and had a child.
          if (son.birthYear > Y - 24) this.moveBirthYear(son, Y - 24);
          const inLaw = add('childInLaw', other(son.gender), son.birthYear + dice.int(-2, 2));
          this.marry(household, dice, son, inLaw, 1);
          child([son, inLaw], 'grandchild', 20);
        } else {
          const [head, spouse] = couple(28, 58);
          this.marry(household, dice, head, spouse, 0);
          child([head, spouse]);
          if (kind === 'kids-and-parent') {
            child([head, spouse]);
            parentsOf(head, false);
          } else {
            parentsOf(head, true);
          }
        }
        break;
      }
    }
    assignProperties(this, household, dice);
    assignPhones(this, household, dice);
    return household;
  }

  /** A person with a unique ID number: (county, slot) decides birth month-day and sequence code. */
  private newMember(
    household: Household,
    slots: number[],
    dice: Dice,
    relation: Relation,
    gender: Gender,
    birthYear: number,
    surname: string,
    ethnicity: string,
  ): Member {
    const countyIndex = household.index % COUNTIES.length;
    const slot = slots[countyIndex]!++;
    // slot -> (day of year, sequence) is one-to-one for slot < 365 * 500 = 182,500; a million
    // people over six counties need at most ~167,000 per county. The multipliers are coprime with
    // 365 and 500, so neighbours get scattered dates and sequence codes.
    // Offsets per seed and county keep the counties from mirroring each other.
    const offset = mix(this.seed, countyIndex);
    const dayOfYear = (slot * 149 + (offset % 365)) % 365;
    const sequence = ((floor(slot / 365) * 211 + ((offset >>> 16) % 500)) % 500) * 2 + (gender === 'male' ? 1 : 0);
    const [month, day] = monthDayOf(dayOfYear);
    const year = max(1901, min(birthYear, this.asOfYear - 1));
    const first17 = `${household.county.code}${year}${pad(month, 2)}${pad(day, 2)}${pad(sequence, 3)}`;
    const given = dice.pick(gender === 'male' ? GIVEN_MALE : GIVEN_FEMALE);
    return {
      index: household.members.length,
      idNumber: first17 + checkDigitOf(first17),
      name: surname + given,
      surname,
      gender,
      birthYear: year,
      birthMonth: month,
      birthDom: day,
      birthDay: daysFromCivil(year, month, day),
      birthDate: `${year}-${pad(month, 2)}-${pad(day, 2)}`,
      relation,
      marital: 'unmarried',
      ethnicity:
        relation === 'childInLaw' || relation === 'spouse'
          ? dice.weighted([
              [99, '汉族'],
              [1, '畲族'],
            ] as const)
          : ethnicity,
      units: [],
    };
  }

  /** Moves a birth to another year, and the ID number with it: same person, same uniqueness slot. */
  private moveBirthYear(member: Member, year: number): void {
    member.birthYear = year;
    member.birthDay = daysFromCivil(year, member.birthMonth, member.birthDom);
    member.birthDate = `${year}-${pad(member.birthMonth, 2)}-${pad(member.birthDom, 2)}`;
    const first17 = `${member.idNumber.slice(0, 6)}${year}${member.idNumber.slice(10, 17)}`;
    member.idNumber = first17 + checkDigitOf(first17);
  }

  /** The day a member turns `age`. */
  birthdayAt(member: Member, age: number): number {
    return daysFromCivil(member.birthYear + age, member.birthMonth, member.birthDom);
  }

  /** The month index of the month a member turns `age`. */
  monthAtAge(member: Member, age: number): number {
    return (member.birthYear + age) * 12 + member.birthMonth - 1;
  }

  private marry(household: Household, dice: Dice, a: Member, b: Member, couple: number): void {
    const earliest = max(this.birthdayAt(a, MARRIAGE_AGE), this.birthdayAt(b, MARRIAGE_AGE));
    const latest = max(earliest, min(earliest + 10 * 365, this.asOfDay - 400));
    const day = dice.int(earliest, latest);
    const certificate = `J${household.county.code}-${yearOf(day)}-${pad(household.index * 2 + couple, 7)}`;
    for (const [self, spouse] of [
      [a, b],
      [b, a],
    ] as const) {
      self.marital = 'married';
      self.spouse = spouse;
      self.registrationDay = day;
      self.certificateNumber = certificate;
    }
  }

  private single(household: Household, dice: Dice, member: Member, status: MaritalStatus): void {
    member.marital = status;
    if (status === 'unmarried') return;
    // The latest registration: the marriage for a widow(er), the divorce for a divorcee.
    const earliest = this.birthdayAt(member, MARRIAGE_AGE);
    const latest = max(earliest, this.asOfDay - 30);
    member.registrationDay = dice.int(earliest, latest);
    if (status === 'divorced')
      member.certificateNumber = `L${household.county.code}-${yearOf(member.registrationDay)}-${pad(household.index * 8 + member.index, 7)}`;
  }

  ageOf(member: Member): number {
    const [ny, nm, nd] = this.asOfParts;
    return ny - member.birthYear - (nm < member.birthMonth || (nm === member.birthMonth && nd < member.birthDom) ? 1 : 0);
  }

  timestamp(dice: Dice, day: number): string {
    return `${isoDate(day)}T${pad(dice.int(8, 17), 2)}:${pad(dice.int(0, 59), 2)}:${pad(dice.int(0, 59), 2)}+08:00`;
  }
}
