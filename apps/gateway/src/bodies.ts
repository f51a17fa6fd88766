// The request bodies of the gateway API, as JSON Schemas (validated by JsonBody and published in
// the OpenAPI document from the same objects).
import { MATTER_CODE, SOURCE_ID } from '@datarun/registry';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });

export const OPEN_CASE = {
  type: 'object',
  additionalProperties: false,
  required: ['matter', 'parties', 'materials'],
  properties: {
    matter: text(64),
    parties: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['idNumber', 'name', 'role'],
        properties: { idNumber: text(32), name: text(100), role: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,31}$', examples: ['seller', 'buyer'] } },
      },
    },
    property: {
      type: 'object',
      additionalProperties: false,
      required: ['unitNumber', 'address'],
      properties: { unitNumber: text(64), address: text(300) },
    },
    utilityAccounts: { type: 'object', maxProperties: 10, additionalProperties: text(64), examples: [{ water: 'W-1001', gas: 'G-2002' }] },
    materials: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['type', 'sha256'],
        properties: { type: text(64), sha256: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' }, uri: { type: 'string', maxLength: 2000 } },
      },
    },
  },
};

const subject = {
  type: 'object',
  additionalProperties: false,
  required: ['idNumber'],
  properties: { idNumber: { type: 'string', maxLength: 32, description: '公民身份号码 (GB 11643)' } },
};
const caseId = { type: 'string', maxLength: 64, description: 'the case the access is for' };
// The source and the purpose go into the audit record of the access, refused or not: only the
// shapes a source id and a matter code can have (the registry's rules), never other text.
const source = { type: 'string', pattern: SOURCE_ID.source, description: 'the source id' };
const purpose = { type: 'string', pattern: MATTER_CODE.source, description: "the matter code; must be the case's matter and granted" };

export const LOOKUP = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'subject', 'purpose', 'caseId'],
  properties: {
    source,
    subject,
    purpose,
    caseId,
    fields: { type: 'array', minItems: 1, maxItems: 200, items: text(64), description: 'absent = every granted field' },
  },
};

export const VERIFICATION = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'subject', 'purpose', 'caseId', 'claims'],
  properties: {
    source,
    subject,
    purpose,
    caseId,
    claims: { type: 'object', minProperties: 1, maxProperties: 50, examples: [{ maritalStatus: 'married', spouseIdNumber: '11010519491231002X' }] },
  },
};

export const EVIDENCE_BUNDLE = {
  type: 'object',
  additionalProperties: false,
  required: ['caseId'],
  properties: { caseId },
};

/** A recipient's answer to one of its requests (POST /v1/requests/{id}/status): the same rules as a signed status on Kafka. */
export const STATUS_REPORT = {
  type: 'object',
  additionalProperties: false,
  required: ['state'],
  properties: {
    state: {
      enum: ['accepted', 'completed', 'rejected', 'superseded'],
      description: 'superseded: not applied, because a newer request for the same property or account was applied first',
    },
    reference: { ...text(128), description: "the recipient's own reference" },
    reason: { ...text(1000), description: 'why it was rejected or superseded (required for both)' },
  },
  if: { properties: { state: { enum: ['rejected', 'superseded'] } } },
  then: { properties: { reason: text(1000) }, required: ['reason'] },
};

/** A department's decision on its approval task: a reason is required to reject (the use case says so). */
export const DECIDE_APPROVAL = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { type: 'string', minLength: 1, maxLength: 2000, description: 'why (required to reject; the hall tells the applicant)' } },
};
