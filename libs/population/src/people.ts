import type { County, Town } from './city.js';

// One household at a time: its members and what they own.

export type Gender = 'male' | 'female';
export type Relation = 'self' | 'spouse' | 'child' | 'parent' | 'grandchild' | 'childInLaw';
export type MaritalStatus = 'unmarried' | 'married' | 'divorced' | 'widowed';

export interface Member {
  index: number;
  idNumber: string;
  name: string;
  surname: string;
  gender: Gender;
  birthYear: number;
  birthMonth: number;
  birthDom: number;
  /** Day number of the birth date. */
  birthDay: number;
  birthDate: string;
  relation: Relation;
  marital: MaritalStatus;
  spouse?: Member;
  /** Marriage, or for divorced and widowed people their latest registration. */
  registrationDay?: number;
  certificateNumber?: string;
  phone?: string;
  ethnicity: string;
  units: Unit[];
}

export interface Unit {
  unitNumber: string;
  certificateNumber: string;
  address: string;
  area: number;
  usage: 'residential' | 'commercial';
  ownershipShare: number;
  registeredDay: number;
}

export interface Household {
  index: number;
  county: County;
  number: string;
  address: string;
  town: Town;
  members: Member[];
  lowIncome: boolean;
  updatedAt: string;
}
