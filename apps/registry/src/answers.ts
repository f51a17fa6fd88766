// The answers of the registry API, as JSON Schemas of what the registry lib returns (MemberView,
// SourceView, IngestResult, GrantView, MatterView): published in the OpenAPI document and checked
// against real answers by the e2e tests. A `title` names a component of the document.
import { closedObject, COUNT, DATE_TIME, listOf, nullable, STRING, STRINGS, UUID } from '@datarun/platform';

const PUBLIC_JWK = {
  type: 'object',
  required: ['kty', 'kid'],
  properties: {
    kty: { enum: ['RSA', 'EC'] },
    kid: STRING,
    alg: { enum: ['RS256', 'ES256'] },
    use: { const: 'sig' },
    exp: { ...COUNT, description: 'When the key stops verifying (NumericDate, seconds): a replaced key in its overlap, or an expiry the member set' },
  },
  description: 'A public JSON Web Key (RFC 7517): RSA of at least 2048 bits or EC P-256, never a private member',
  title: 'PublicJwk',
};

const RECIPIENT = closedObject(
  {
    delivery: { enum: ['kafka', 'webhook'], description: 'kafka: its own connector consumes its topics; webhook: datarun posts each request to `endpoint`' },
    requests: { type: 'array', items: { enum: ['transfer', 'discount', 'benefit'] }, description: 'The requests it handles' },
  },
  {
    endpoint: { ...STRING, description: 'Webhook only: where requests are posted' },
    utilityKind: {
      enum: ['water', 'electricity', 'gas', 'cable', 'broadband', 'heat'],
      description: 'The utility kind it receives for: a matter naming the kind means this member',
    },
  },
  { title: 'Recipient', description: 'How a utility or department member receives the requests matters send it' },
);

export const MEMBER = closedObject(
  {
    id: { ...STRING, examples: ['zj.longyou.service-hall'] },
    name: STRING,
    kind: { enum: ['department', 'consumer', 'utility', 'auditor', 'admin'] },
    state: {
      enum: ['active', 'suspended'],
      description: '`suspended`: every token and signature of the member is refused (403 MEMBER_SUSPENDED) until an admin reinstates it',
    },
    jwks: closedObject({ keys: { type: 'array', items: PUBLIC_JWK } }, {}, { title: 'Jwks' }),
    recipient: nullable(RECIPIENT),
    createdAt: DATE_TIME,
    updatedAt: DATE_TIME,
  },
  {},
  { title: 'Member' },
);

export const MEMBERS = closedObject(
  { items: { type: 'array', items: MEMBER } },
  { next: { ...STRING, description: 'Pass as `cursor` for the next page; absent on the last page' } },
  { title: 'MemberList' },
);

const CLASSIFICATION = { enum: ['public', 'internal', 'sensitive', 'secret'], description: 'The classification (分级) that decides masking' };

export const SOURCE = closedObject(
  {
    id: { ...STRING, examples: ['household'] },
    title: STRING,
    owner: { ...STRING, description: 'The department member that registered it' },
    subjectKey: { ...STRING, description: 'The field that holds the subject’s ID number' },
    mode: { enum: ['replica', 'federated'] },
    currentVersion: { type: 'integer', minimum: 1 },
    versions: {
      type: 'array',
      items: closedObject(
        {
          version: { type: 'integer', minimum: 1 },
          createdAt: DATE_TIME,
          fields: {
            type: 'array',
            items: closedObject(
              {
                name: STRING,
                type: { ...STRING, description: 'The JSON type(s) of the field, e.g. string or string|null; any when the schema names none' },
                required: { type: 'boolean' },
                classification: CLASSIFICATION,
              },
              { title: STRING },
              { title: 'SourceField' },
            ),
          },
        },
        {},
        { title: 'SourceVersion' },
      ),
    },
  },
  {},
  { title: 'Source', description: 'A source as the resource catalogue (资源目录) shows it: its fields and their classification, never data' },
);

export const CATALOG = listOf(SOURCE, { title: 'Catalog' });

export const INGEST_RESULT = closedObject(
  {
    stored: { ...COUNT, description: 'Records upserted' },
    rejected: {
      type: 'array',
      items: closedObject({
        index: { ...COUNT, description: 'The position of the record in the batch' },
        errors: { type: 'array', items: closedObject({ path: STRING, message: STRING }) },
      }),
    },
  },
  {},
  { title: 'IngestResult' },
);

export const GRANT = closedObject(
  {
    id: UUID,
    consumer: { ...STRING, description: 'The member that asked for it' },
    source: STRING,
    fields: STRINGS,
    verifyFields: STRINGS,
    unmaskedFields: STRINGS,
    purposes: { ...STRINGS, description: 'The matter codes it may be used for' },
    validUntil: DATE_TIME,
    reason: STRING,
    state: { enum: ['requested', 'approved', 'rejected', 'revoked'] },
    requestedBy: { ...STRING, description: 'The acting person (token sub)' },
    createdAt: DATE_TIME,
    decisions: {
      type: 'array',
      items: closedObject(
        { decision: { enum: ['approved', 'rejected', 'revoked'] }, member: STRING, actor: STRING, at: DATE_TIME },
        { note: STRING },
        { title: 'GrantDecision' },
      ),
    },
  },
  { decidedBy: STRING, decidedAt: DATE_TIME },
  { title: 'Grant' },
);

export const GRANTS = listOf(GRANT, { title: 'GrantList' });

export const MATTER = closedObject(
  {
    code: { ...STRING, examples: ['property-transfer'] },
    title: STRING,
    evidence: { ...STRINGS, description: 'The sources an evidence bundle looks up for every party' },
    materials: { ...STRINGS, description: 'The material types a case of this matter collects' },
    deferrable: {
      type: 'array',
      description: '容缺受理: the materials a case may open without, each due this many days after the opening',
      items: closedObject({ type: STRING, dueDays: { type: 'integer' } }, {}, { title: 'DeferrableMaterial' }),
    },
    onComplete: {
      type: 'array',
      items: closedObject(
        {
          notify: { ...STRING, description: 'The recipient: a member id, or a utility kind (the member registered for it when a case completes)' },
          request: { enum: ['transfer', 'discount', 'benefit'] },
          fields: {
            type: 'array',
            items: { enum: ['idNumber', 'role'] },
            description: 'What the recipient receives about the beneficiary beyond name and masked ID number',
          },
          materials: { ...STRINGS, description: 'The submitted materials this recipient receives (as signed links)' },
        },
        {
          benefit: { ...STRING, description: 'Which benefit (benefit requests only)' },
          holderRole: { ...STRING, description: 'The role of the party who holds the account afterwards (absent: the first party)' },
          optional: { const: true, description: "Sent only when the case names an account for the recipient's utility kind" },
        },
        { title: 'MatterNotification' },
      ),
    },
    approvals: {
      type: 'array',
      description: '并联审批: the departments that approve each case, all at once (empty: none)',
      items: closedObject(
        {
          by: { ...STRING, description: 'The approving department' },
          timeLimitHours: { type: 'integer', description: '承诺时限: the task is overdue this many hours after it opened' },
        },
        {},
        { title: 'MatterApproval' },
      ),
    },
    createdAt: DATE_TIME,
  },
  {},
  { title: 'Matter' },
);

export const MATTERS = listOf(MATTER, { title: 'MatterList' });
