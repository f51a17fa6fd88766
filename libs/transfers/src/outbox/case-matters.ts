import type { EntityManager } from 'typeorm';

/** A party of a case, as the case was opened with it. */
export interface CaseParty {
  readonly idNumber: string;
  readonly name: string;
  readonly role: string;
}

/**
 * What the relay needs from the cases lib: the matter of each case, the purpose of the audit
 * record a request's publication or status makes, and its parties, the subjects of that record. Declared here because the cases lib depends on
 * this one (it plans the requests); the relay app provides it from the cases lib (`CaseFacts`).
 */
export abstract class CaseMatters {
  /** Matter code by case id, for the cases that exist; `em` reads inside the caller's transaction. */
  abstract matterCodesOf(caseIds: readonly string[], em?: EntityManager): Promise<ReadonlyMap<string, string>>;

  /** Parties by case id, for the cases that exist. */
  abstract partiesOf(caseIds: readonly string[], em?: EntityManager): Promise<ReadonlyMap<string, readonly CaseParty[]>>;
}
