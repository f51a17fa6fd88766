/** A grant that counts now: approved, unexpired, unrevoked (the caller filters). */
export interface EffectiveGrant {
  readonly id: string;
  readonly fields: readonly string[];
  readonly verifyFields: readonly string[];
  readonly purposes: readonly string[];
  readonly unmaskedFields: readonly string[];
}

export interface CaseFacts {
  readonly state: 'open' | 'approving' | 'rejected' | 'completed' | 'withdrawn';
  readonly matter: string;
  readonly partyIdNumbers: readonly string[];
}

export interface AccessRequest {
  readonly purpose: string;
  readonly subject: string;
  /** Fields to read (`read`) or to compare (`verify`); absent = every granted field (read only). */
  readonly fields?: readonly string[];
  readonly mode: 'read' | 'verify';
}

export type DenialCode = 'GRANT_MISSING' | 'PURPOSE_NOT_GRANTED' | 'CASE_NOT_OPEN' | 'SUBJECT_NOT_IN_CASE' | 'FIELD_NOT_GRANTED';

export type AccessDecision =
  | { readonly allowed: true; readonly fields: readonly string[]; readonly unmasked: readonly string[]; readonly grantIds: readonly string[] }
  | { readonly allowed: false; readonly code: DenialCode; readonly detail: string };

const deny = (code: DenialCode, detail: string): AccessDecision => ({ allowed: false, code, detail });

/**
 * Every condition of a lookup, checked in a fixed order so the same request always gets the same
 * code: a grant on the source; the purpose is the case's matter and a granted purpose; the case is
 * open (or approving); the subject is a party of it; each field is granted (read: `fields`; verify: `fields` or
 * `verifyFields`). Several grants for the same purpose add up.
 */
export function decideAccess(grants: readonly EffectiveGrant[], facts: CaseFacts, request: AccessRequest): AccessDecision {
  if (grants.length === 0) return deny('GRANT_MISSING', 'no approved grant of yours covers this source');
  if (request.purpose !== facts.matter) return deny('PURPOSE_NOT_GRANTED', `the purpose must be the case's matter (${facts.matter})`);
  const forPurpose = grants.filter((g) => g.purposes.includes(request.purpose));
  if (forPurpose.length === 0) return deny('PURPOSE_NOT_GRANTED', `no grant of yours on this source names the purpose ${request.purpose}`);
  // A case under approval is being worked on: the hall still gathers its evidence.
  if (facts.state !== 'open' && facts.state !== 'approving') return deny('CASE_NOT_OPEN', `the case is ${facts.state}`);
  if (!facts.partyIdNumbers.includes(request.subject)) return deny('SUBJECT_NOT_IN_CASE', 'the subject is not a party of the case');

  const readable = new Set(forPurpose.flatMap((g) => g.fields));
  const allowed = request.mode === 'read' ? readable : new Set([...readable, ...forPurpose.flatMap((g) => g.verifyFields)]);
  const wanted = request.fields ?? (request.mode === 'read' ? [...readable] : []);
  if (wanted.length === 0) return deny('FIELD_NOT_GRANTED', request.mode === 'read' ? 'the grant names no readable field' : 'name at least one claim');
  const refused = wanted.filter((f) => !allowed.has(f));
  if (refused.length > 0) return deny('FIELD_NOT_GRANTED', `not granted: ${[...new Set(refused)].join(', ')}`);
  return {
    allowed: true,
    fields: [...new Set(wanted)],
    unmasked: [...new Set(forPurpose.flatMap((g) => g.unmaskedFields))],
    grantIds: forPurpose.map((g) => g.id),
  };
}
