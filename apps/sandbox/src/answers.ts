// The answers of the sandbox's simulated departments and utilities, as JSON Schemas: published in
// the OpenAPI document and checked against real answers by the e2e tests. A `title` names a
// component of the document.
import { closedObject, COUNT, DATE_TIME, SHA256_HEX, STRING, STRINGS, UUID } from '@datarun/platform';

export const DEPARTMENT_RECORD = {
  type: 'object',
  title: 'DepartmentRecord',
  description: "The subject's record, valid against schemas/records/<source>.json of the department",
};

const REQUEST_KIND = { enum: ['transfer', 'discount'] };

const RECEIVED_MATERIAL = {
  type: STRING,
  contentType: { ...STRING, description: 'The media type the material came with' },
  size: { ...COUNT, description: 'Bytes received' },
  sha256: { ...SHA256_HEX, description: 'SHA-256 the utility computed from the bytes it received' },
};

export const UTILITY_SUMMARY = closedObject(
  {
    kind: STRING,
    accounts: COUNT,
    applied: { ...COUNT, description: 'Requests applied so far' },
    available: { type: 'boolean', description: 'False during a simulated outage' },
  },
  {},
  { title: 'UtilitySummary' },
);

export const UTILITY_RECEIPT = closedObject(
  {
    reference: { ...STRING, description: "The utility's own reference" },
    duplicate: { type: 'boolean', description: 'A repeated request id: the first reference, nothing changed' },
  },
  {},
  { title: 'UtilityReceipt' },
);

export const UTILITY_REQUESTS = closedObject(
  {
    requests: {
      type: 'array',
      items: closedObject(
        {
          requestId: UUID,
          accountNumber: STRING,
          request: REQUEST_KIND,
          reference: STRING,
          appliedAt: DATE_TIME,
          calls: { type: 'integer', minimum: 1, description: 'Every call with this request id, the first included: above 1 means a sender retried' },
          materials: {
            type: 'array',
            items: closedObject(RECEIVED_MATERIAL, {}, { title: 'ReceivedUtilityMaterial' }),
            description: 'The documents received with the request, as the utility checked them (the bytes are not listed)',
          },
        },
        { unitNumber: STRING, correlationId: { ...STRING, description: 'The correlation id the first call carried (x-request-id or traceparent)' } },
        { title: 'AppliedUtilityRequest' },
      ),
    },
  },
  {},
  { title: 'UtilityRequests' },
);

export const RECEIVED_BYTES = { type: 'string', format: 'binary', description: 'The bytes as received' };

export const UTILITY_ACCOUNT = closedObject(
  {
    accountNumber: STRING,
    discounts: { ...STRINGS, description: 'The matters whose discounts apply' },
    history: { type: 'array', items: UUID, description: 'Request ids in the order they were applied' },
    materials: {
      type: 'array',
      items: closedObject({ requestId: UUID, ...RECEIVED_MATERIAL }),
      description: 'The documents received with those requests, in the same order',
    },
  },
  { holder: closedObject({ name: STRING, idNumberMasked: STRING }, { idNumber: STRING, role: STRING }) },
  { title: 'UtilityAccount' },
);

export const RECIPIENT_SUMMARY = closedObject(
  {
    member: STRING,
    beneficiaries: { ...COUNT, description: 'Beneficiaries on the register' },
    applied: { ...COUNT, description: 'Requests applied so far' },
    available: { type: 'boolean', description: 'False during a simulated outage' },
  },
  {},
  { title: 'RecipientSummary' },
);

export const RECIPIENT_RECEIPT = closedObject(
  {
    reference: { ...STRING, description: "The department's own reference" },
    duplicate: { type: 'boolean', description: 'A repeated request id: the first reference, nothing changed' },
  },
  {},
  { title: 'RecipientReceipt' },
);

const BENEFICIARY = closedObject(
  { name: STRING, idNumberMasked: STRING },
  { idNumber: { ...STRING, description: 'Only where the matter names it for this recipient' }, role: STRING },
  { title: 'ReceivedBeneficiary' },
);

export const RECIPIENT_REQUESTS = closedObject(
  {
    requests: {
      type: 'array',
      items: closedObject(
        {
          requestId: UUID,
          request: { enum: ['benefit'] },
          benefit: STRING,
          beneficiary: BENEFICIARY,
          decision: closedObject({ matter: STRING, decidedAt: DATE_TIME, validFrom: STRING }, { validUntil: STRING }),
          reference: STRING,
          appliedAt: DATE_TIME,
          calls: { type: 'integer', minimum: 1, description: 'Every call with this request id, the first included: above 1 means a sender retried' },
          materials: {
            type: 'array',
            items: closedObject(RECEIVED_MATERIAL, {}, { title: 'ReceivedRecipientMaterial' }),
            description: 'The documents received with the request, as the department checked them (the bytes are not listed)',
          },
        },
        { accountNumber: STRING, correlationId: { ...STRING, description: 'The correlation id the first call carried (x-request-id or traceparent)' } },
        { title: 'AppliedBenefitRequest' },
      ),
    },
  },
  {},
  { title: 'RecipientRequests' },
);
