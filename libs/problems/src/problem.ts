/** Every stable code of the public contract, with its HTTP status and a short title. */
export const PROBLEM_CODES = {
  VALIDATION_FAILED: [400, 'The request is not valid'],
  ID_NUMBER_INVALID: [400, 'The resident ID number is not valid'],
  SCHEMA_INVALID: [400, 'The JSON Schema is not acceptable'],
  SCHEMA_INCOMPATIBLE: [400, 'The schema version would break current readers'],
  MATERIAL_HASH_MISMATCH: [400, 'The material does not match its declared SHA-256'],
  ENDPOINT_NOT_ALLOWED: [400, 'The endpoint is outside the egress allowlist'],
  TOKEN_MISSING: [401, 'No bearer token'],
  TOKEN_INVALID: [401, 'The token is not valid'],
  TOKEN_EXPIRED: [401, 'The token has expired'],
  ROLE_FORBIDDEN: [403, 'Your role may not do this'],
  NOT_OWNER: [403, 'You do not own this object'],
  MEMBER_SUSPENDED: [403, 'The calling member is suspended'],
  GRANT_MISSING: [403, 'No approved grant covers this access'],
  PURPOSE_NOT_GRANTED: [403, 'The purpose is not granted'],
  FIELD_NOT_GRANTED: [403, 'A requested field is not granted'],
  SUBJECT_NOT_IN_CASE: [403, 'The subject is not a party of the case'],
  CASE_NOT_OPEN: [403, 'The case is not open'],
  LINK_INVALID: [403, 'The link is not valid'],
  LINK_EXPIRED: [403, 'The link has expired'],
  NOT_FOUND: [404, 'Not found'],
  SOURCE_NOT_FOUND: [404, 'No such data source'],
  CASE_NOT_FOUND: [404, 'No such case'],
  RECORD_NOT_FOUND: [404, 'No such record'],
  MEMBER_NOT_FOUND: [404, 'No such member'],
  RECIPIENT_NOT_FOUND: [404, 'No member receives requests under that name'],
  GRANT_NOT_FOUND: [404, 'No such grant'],
  MATTER_NOT_FOUND: [404, 'No such matter'],
  APPROVAL_NOT_FOUND: [404, 'No such approval task'],
  MATERIAL_NOT_FOUND: [404, 'No such material'],
  DEAD_LETTER_NOT_FOUND: [404, 'No such dead letter'],
  TRANSFER_NOT_FOUND: [404, 'No such utility request on this case'],
  KEY_NOT_FOUND: [404, 'The member has no such valid key'],
  METHOD_NOT_ALLOWED: [405, 'Method not allowed'],
  ALREADY_EXISTS: [409, 'It already exists'],
  STATE_CONFLICT: [409, 'The object is not in a state that allows this'],
  APPROVAL_PENDING: [409, 'The case waits for its approvals'],
  MATERIAL_MISSING: [409, 'A material the case opened without has not been uploaded'],
  DEAD_LETTER_PLANTED: [409, 'The dead letter was not sealed by datarun or its recipient; it is never replayed'],
  PAYLOAD_TOO_LARGE: [413, 'The request body is too large'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'Unsupported media type'],
  MATERIAL_TYPE_MISMATCH: [415, 'The material is not of the media type it was uploaded as'],
  RATE_LIMITED: [429, 'Too many requests'],
  INTERNAL_ERROR: [500, 'Internal error'],
  SOURCE_UNAVAILABLE: [502, 'The data source is unavailable'],
  SOURCE_RESPONSE_INVALID: [502, 'The data source answered something that breaks its schema'],
  AUDIT_UNAVAILABLE: [503, 'The audit log cannot be written; no data is released'],
  SERVICE_UNAVAILABLE: [503, 'A dependency is unavailable'],
  SOURCE_TIMEOUT: [504, 'The data source did not answer in time'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemCode = keyof typeof PROBLEM_CODES;

/**
 * A refusal or failure with a stable code. `detail` is for the caller and must be safe to show;
 * `extensions` become extra members of the problem+json body (e.g. the offending schema paths).
 */
export class Problem extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(`${code}: ${detail}`);
    this.name = 'Problem';
    [this.status, this.title] = PROBLEM_CODES[code];
  }
}

export function isProblemCode(code: string): code is ProblemCode {
  return Object.hasOwn(PROBLEM_CODES, code);
}
