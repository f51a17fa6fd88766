// The answers of the gateway API, as JSON Schemas of what the cases and lookups libs return
// (CaseView, MaterialUpload, LookupAnswer, BundleItem): published in the OpenAPI document and
// checked against real answers by the e2e tests. A `title` names a component of the document.
import { MATERIAL_MEDIA_TYPES } from '@datarun/cases';
import { closedObject, COUNT, DATE_TIME, nullable, SHA256_HEX, STRING, UUID } from '@datarun/platform';

/** A page of a list: its items, and the cursor of the next page while there is one. */
function pageOf(item: object, title: string): ReturnType<typeof closedObject> {
  return closedObject(
    { items: { type: 'array', items: item } },
    { next: { ...STRING, description: 'The cursor of the next page; absent on the last' } },
    { title },
  );
}

const PARTY = closedObject(
  { idNumber: { ...STRING, description: '公民身份号码 (GB 11643), as checked when the case was opened' }, name: STRING, role: STRING },
  {},
  { title: 'CaseParty' },
);
const PROPERTY = closedObject({ unitNumber: STRING, address: STRING }, {}, { title: 'Property' });

const TRANSFER = closedObject(
  {
    utility: { ...nullable(STRING), description: "The utility kind of a kind's transfer or discount, e.g. water; null for a benefit" },
    recipient: {
      ...nullable(
        closedObject(
          {
            id: { ...STRING, description: 'The member id, e.g. zj.demo.water' },
            name: { ...STRING, description: 'Its registered name, e.g. 演示市自来水公司 (the id when the member is not registered)' },
          },
          {},
          { title: 'TransferRecipient', description: 'The registered recipient member the request went to; only it can sign or post its statuses' },
        ),
      ),
      description: 'Who the request went to (resolved when the case completed); null only for a request written before recipients were registered',
    },
    request: { enum: ['transfer', 'discount', 'benefit'], description: 'What the recipient is asked to do' },
    requestId: { ...UUID, description: 'Also the CloudEvents id: the idempotency key the recipient sees' },
    state: { enum: ['pending', 'published', 'accepted', 'completed', 'rejected', 'superseded'] },
    updatedAt: DATE_TIME,
    followUp: { type: 'boolean', description: 'No final status within TRANSFER_FOLLOW_UP_SECONDS: someone should call the recipient' },
  },
  {
    benefit: { ...STRING, description: 'The benefit granted, for a benefit request, e.g. education-aid' },
    publishedAt: DATE_TIME,
    reference: { ...STRING, description: "The recipient's own reference" },
    reason: { ...STRING, description: 'Why it was rejected' },
  },
  { title: 'Transfer', description: 'One request of a completed case to one recipient, and its latest status' },
);

/** One request as its recipient reads it (GET /v1/requests, POST /v1/requests/{id}/status). */
export const RECIPIENT_REQUEST = closedObject(
  {
    requestId: UUID,
    caseId: UUID,
    request: { enum: ['transfer', 'discount', 'benefit'] },
    state: { enum: ['published', 'accepted', 'completed', 'rejected', 'superseded'] },
    createdAt: DATE_TIME,
    updatedAt: DATE_TIME,
    data: {
      type: 'object',
      additionalProperties: true,
      description:
        'The request body as it was sent (schemas/events: transfer-requested, discount-requested or benefit-requested), with material links issued to the caller and valid for MATERIAL_LINK_TTL_SECONDS from now',
    },
  },
  {
    benefit: STRING,
    utility: { ...STRING, description: "The utility kind of a kind's transfer or discount" },
    reference: { ...STRING, description: "The recipient's own reference, as it reported it" },
    reason: STRING,
    publishedAt: DATE_TIME,
  },
  { title: 'RecipientRequest' },
);

export const RECIPIENT_REQUEST_PAGE = pageOf(RECIPIENT_REQUEST, 'RecipientRequestPage');

const APPROVAL_FIELDS = {
  id: UUID,
  by: { ...STRING, description: 'The approving department (member id)' },
  state: { enum: ['pending', 'approved', 'rejected'] },
  dueAt: { ...DATE_TIME, description: '承诺时限: when the task is due (its matter’s time limit after the case opened)' },
  overdue: { type: 'boolean', description: 'Pending past its due time, or decided after it' },
};
const APPROVAL_DECISION = {
  decidedAt: DATE_TIME,
  reason: { ...STRING, description: 'The department’s reason (always given with a rejection)' },
};

const APPROVAL = closedObject(APPROVAL_FIELDS, APPROVAL_DECISION, { title: 'CaseApproval' });
const CASE_STATE = {
  enum: ['open', 'approving', 'rejected', 'completed', 'withdrawn'],
  description: '`approving` while approvals are pending (then `open`); `rejected` after a department rejected it',
};
const DEFERRED_MATERIAL = closedObject(
  {
    type: STRING,
    dueAt: { ...DATE_TIME, description: 'When it is due (its matter’s days after the opening)' },
    uploaded: { type: 'boolean', description: 'Whether it was uploaded (it is then among `materials` too)' },
    overdue: { type: 'boolean', description: 'Not uploaded by its due time' },
  },
  {},
  { title: 'DeferredMaterial' },
);
const MASKED_PARTY = closedObject(
  { name: STRING, role: STRING, idNumberMasked: { ...STRING, description: 'The ID number, masked' } },
  {},
  { title: 'MaskedParty' },
);

export const APPROVAL_TASK = closedObject(
  {
    ...APPROVAL_FIELDS,
    caseId: UUID,
    matter: STRING,
    caseState: CASE_STATE,
    consumer: { ...STRING, description: 'The hall that opened the case' },
    parties: { type: 'array', items: MASKED_PARTY },
    openedAt: DATE_TIME,
  },
  { ...APPROVAL_DECISION, decidedBy: { ...STRING, description: 'The person (token sub) who decided' } },
  { title: 'ApprovalTask' },
);

export const APPROVAL_TASK_PAGE = pageOf(APPROVAL_TASK, 'ApprovalTaskPage');

export const CASE = closedObject(
  {
    id: UUID,
    matter: { ...STRING, description: 'The matter code' },
    state: CASE_STATE,
    parties: { type: 'array', items: PARTY },
    materials: {
      type: 'array',
      items: closedObject(
        { type: STRING, sha256: SHA256_HEX, uploaded: { type: 'boolean', description: 'Whether the bytes were uploaded' } },
        { uri: STRING },
        { title: 'CaseMaterial' },
      ),
    },
    deferred: {
      type: 'array',
      description: '容缺受理: the materials the case opened without; it cannot complete until each is uploaded',
      items: DEFERRED_MATERIAL,
    },
    approvals: { type: 'array', items: APPROVAL, description: '并联审批: every approving department’s task, decided in parallel' },
    transfers: { type: 'array', items: TRANSFER },
    progress: closedObject(
      { total: COUNT, completed: COUNT, rejected: COUNT, followUp: COUNT, summary: { ...STRING, examples: ['6 of 6 completed'] } },
      {},
      { description: 'How far the requests to every recipient are: the clerk’s one-line answer' },
    ),
    openedBy: { ...STRING, description: 'The acting person (token sub) who opened it' },
    createdAt: DATE_TIME,
    updatedAt: DATE_TIME,
  },
  {
    property: PROPERTY,
    utilityAccounts: { type: 'object', additionalProperties: STRING, description: 'Account numbers by utility kind' },
    closedAt: { ...DATE_TIME, description: 'When it was completed, withdrawn or rejected' },
    rejectionReason: { ...STRING, description: 'Which department rejected it, and why' },
  },
  { title: 'Case' },
);

export const CASE_SUMMARY_PAGE = pageOf(
  closedObject(
    {
      id: UUID,
      matter: STRING,
      state: CASE_STATE,
      parties: { type: 'array', items: PARTY },
      overdue: { type: 'boolean', description: 'An approval pending past its due time, or a deferred material not uploaded by its due time' },
      openedBy: STRING,
      createdAt: DATE_TIME,
      updatedAt: DATE_TIME,
    },
    { closedAt: DATE_TIME },
    { title: 'CaseSummary' },
  ),
  'CaseSummaryPage',
);

export const CITIZEN_CASES = closedObject(
  {
    items: {
      type: 'array',
      items: closedObject(
        {
          id: UUID,
          matter: STRING,
          state: CASE_STATE,
          hall: closedObject({ id: STRING, name: STRING }, {}, { title: 'CaseHall', description: 'The service hall that opened the case' }),
          parties: { type: 'array', items: MASKED_PARTY },
          approvals: { type: 'array', items: APPROVAL },
          deferred: { type: 'array', items: DEFERRED_MATERIAL },
          recipients: {
            type: 'array',
            description: 'Every unit the completed case notified, and how far it is',
            items: closedObject(
              {
                id: { ...nullable(STRING), description: 'The recipient member (null only for a request from before recipients were members)' },
                name: STRING,
                request: { enum: ['transfer', 'discount', 'benefit'] },
                state: { enum: ['pending', 'published', 'accepted', 'completed', 'rejected', 'superseded'] },
                updatedAt: DATE_TIME,
              },
              { benefit: STRING },
              { title: 'CitizenCaseRecipient' },
            ),
          },
          createdAt: DATE_TIME,
        },
        { closedAt: DATE_TIME, rejectionReason: STRING },
        { title: 'CitizenCase' },
      ),
    },
  },
  {},
  { title: 'CitizenCaseList' },
);

export const MATERIAL_UPLOAD = closedObject(
  { type: STRING, sha256: SHA256_HEX, size: { ...COUNT, description: 'Bytes' }, contentType: { enum: [...MATERIAL_MEDIA_TYPES] }, uploadedAt: DATE_TIME },
  {},
  { title: 'MaterialUpload' },
);

/** The bytes of a material, in the media type it was uploaded with. */
export const MATERIAL_BYTES = { type: 'string', format: 'binary', description: 'The bytes as uploaded' };

const AUDIT_ID = { ...UUID, description: 'The audit record of this access' };

export const LOOKUP_ANSWER = closedObject(
  {
    data: { type: 'object', description: 'The granted fields only, masked by their classification' },
    provenance: closedObject(
      {
        source: STRING,
        owner: { ...STRING, description: 'The department member that owns the source' },
        schemaVersion: { type: 'integer', minimum: 1 },
        retrievedAt: DATE_TIME,
      },
      { asOf: { ...DATE_TIME, description: 'Replica sources: when the department last pushed the record' } },
      { title: 'Provenance' },
    ),
    auditId: AUDIT_ID,
  },
  {},
  { title: 'LookupAnswer' },
);

export const VERIFICATION_ANSWER = closedObject(
  { match: { type: 'boolean', description: 'Every claim equals the record' }, auditId: AUDIT_ID },
  {},
  { title: 'VerificationAnswer' },
);

export const EVIDENCE_BUNDLE_ANSWER = closedObject(
  {
    caseId: UUID,
    matter: STRING,
    items: {
      type: 'array',
      items: closedObject(
        {
          source: STRING,
          role: { ...STRING, description: 'The party’s role on the case' },
          subject: { ...STRING, description: 'The party’s ID number, masked' },
        },
        {
          result: LOOKUP_ANSWER,
          problem: closedObject(
            { status: { type: 'integer' }, code: STRING, title: STRING, detail: STRING },
            { auditId: AUDIT_ID },
            { title: 'BundleProblem', description: 'Why this source gave nothing for this party (the codes of a lookup)' },
          ),
        },
        { title: 'BundleItem', description: 'One source for one party: a result or a problem' },
      ),
    },
  },
  {},
  { title: 'EvidenceBundle' },
);

const COUNT_BY_STATE = closedObject(
  { open: COUNT, approving: COUNT, rejected: COUNT, completed: COUNT, withdrawn: COUNT },
  {},
  { title: 'CasesByState', description: 'The window’s cases by their state now' },
);
const SECONDS = { ...nullable({ type: 'number' }), description: 'Seconds from opening to completion; null when none completed' };

export const MATTER_STATS = closedObject(
  {
    from: DATE_TIME,
    to: DATE_TIME,
    bucket: { enum: ['hour', 'day'] },
    matters: {
      type: 'array',
      items: closedObject(
        {
          matter: STRING,
          opened: { ...COUNT, description: 'Cases opened in the window' },
          byState: COUNT_BY_STATE,
          completion: closedObject(
            { count: { ...COUNT, description: 'Cases completed in the window' }, medianSeconds: SECONDS, p90Seconds: SECONDS },
            {},
            { title: 'CompletionTimes' },
          ),
          overdueApprovals: { ...COUNT, description: 'Approval tasks of the window’s cases pending past due, or decided after it' },
        },
        {},
        { title: 'MatterFigures' },
      ),
    },
    buckets: {
      type: 'array',
      description: 'The heat map (办件热力图): per hour or day (UTC) and matter, the cases opened and completed',
      items: closedObject({ start: DATE_TIME, matter: STRING, opened: COUNT, completed: COUNT }, {}, { title: 'MatterBucket' }),
    },
  },
  {},
  { title: 'MatterStats' },
);
