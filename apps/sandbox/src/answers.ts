// The answers of the sandbox's simulated departments and utilities, as JSON Schemas: published in
// the OpenAPI document and checked against real answers by the e2e tests. A `title` names a
// component of the document.
import { closedObject, COUNT, DATE_TIME, STRING, STRINGS, UUID } from '@datarun/platform';

export const DEPARTMENT_RECORD = {
  type: 'object',
  title: 'DepartmentRecord',
  description: "The subject's record, valid against schemas/records/<source>.json of the department",
};

const REQUEST_KIND = { enum: ['transfer', 'discount'] };

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
        },
        { unitNumber: STRING, correlationId: { ...STRING, description: 'The correlation id the first call carried (x-request-id or traceparent)' } },
        { title: 'AppliedUtilityRequest' },
      ),
    },
  },
  {},
  { title: 'UtilityRequests' },
);

export const UTILITY_ACCOUNT = closedObject(
  {
    accountNumber: STRING,
    discounts: { ...STRINGS, description: 'The matters whose discounts apply' },
    history: { type: 'array', items: UUID, description: 'Request ids in the order they were applied' },
  },
  { holder: closedObject({ name: STRING, idNumberMasked: STRING }) },
  { title: 'UtilityAccount' },
);
