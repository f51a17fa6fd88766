// The request bodies of the registry API, as JSON Schemas: validated by JsonBody and published
// in the OpenAPI document from the same objects.
const jwk = {
  type: 'object',
  required: ['kty'],
  properties: {
    kty: { type: 'string' },
    kid: { type: 'string' },
    exp: { type: 'integer', minimum: 0, description: 'optional: when the key stops verifying (NumericDate, seconds); a past exp ends the key now' },
  },
};
const jwks = { type: 'object', required: ['keys'], properties: { keys: { type: 'array', minItems: 1, maxItems: 10, items: jwk } } };
const classification = {
  type: 'object',
  description: 'a classification (分级) for every top-level field of the schema',
  additionalProperties: { enum: ['public', 'internal', 'sensitive', 'secret'] },
};
const name = (max: number) => ({ type: 'string', minLength: 1, maxLength: max });
const names = { type: 'array', items: name(64), maxItems: 200 };

/** How a utility or department member receives the requests matters send it. */
export const RECIPIENT = {
  type: 'object',
  additionalProperties: false,
  required: ['delivery', 'requests'],
  properties: {
    delivery: { enum: ['kafka', 'webhook'], description: 'kafka: its own connector consumes its topics; webhook: datarun posts each request to `endpoint`' },
    endpoint: {
      type: 'string',
      maxLength: 2000,
      description: 'webhook only: the URL requests are posted to (on the egress allowlist)',
      examples: ['https://hooks.broadband.example/v1/datarun'],
    },
    requests: {
      type: 'array',
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
      items: { enum: ['transfer', 'discount', 'benefit'] },
      description: 'the requests it handles',
    },
    utilityKind: {
      enum: ['water', 'electricity', 'gas', 'cable', 'broadband', 'heat'],
      description: 'utility members only: the kind it receives for (one member per kind); a matter naming the kind means this member',
    },
  },
};

export const REGISTER_MEMBER = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'kind', 'jwks'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{1,127}$', examples: ['zj.longyou.service-hall'] },
    name: name(200),
    kind: { enum: ['department', 'consumer', 'utility', 'auditor', 'admin'] },
    jwks,
    recipient: { ...RECIPIENT, description: 'utility and department members: how it receives requests' },
  },
};

export const CHANGE_MEMBER_STATE = {
  type: 'object',
  additionalProperties: false,
  properties: { reason: { ...name(500), description: 'Why: kept in the audit record of the change' } },
};

export const REPLACE_KEYS = { type: 'object', additionalProperties: false, required: ['keys'], properties: { keys: jwks.properties.keys } };

export const REGISTER_SOURCE = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'schema', 'subjectKey', 'classification', 'mode'],
  properties: {
    id: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,63}$', examples: ['household'] },
    title: name(200),
    schema: { type: 'object', description: 'JSON Schema draft 2020-12 of one record (an object with properties)' },
    subjectKey: name(64),
    classification,
    mode: { enum: ['replica', 'federated'] },
    endpoint: { type: 'string', maxLength: 2000 },
  },
};

export const PUBLISH_VERSION = {
  type: 'object',
  additionalProperties: false,
  required: ['schema', 'classification'],
  properties: { schema: REGISTER_SOURCE.properties.schema, classification },
};

export const PUSH_RECORDS = {
  type: 'object',
  additionalProperties: false,
  required: ['records'],
  properties: { records: { type: 'array', minItems: 1, maxItems: 5000, items: {} } },
};

export const REQUEST_GRANT = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'fields', 'purposes', 'validUntil', 'reason'],
  properties: {
    source: name(64),
    fields: names,
    verifyFields: names,
    unmaskedFields: { ...names, description: 'sensitive fields to read in full (e.g. another person’s ID number); the owner sees them before approving' },
    purposes: { ...names, minItems: 1 },
    validUntil: { type: 'string', format: 'date-time' },
    reason: name(2000),
  },
};

export const DECIDE_GRANT = {
  type: 'object',
  additionalProperties: false,
  properties: { note: { type: 'string', maxLength: 2000 } },
};

export const REGISTER_MATTER = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'title', 'evidence', 'materials', 'onComplete'],
  properties: {
    code: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,63}$', examples: ['property-transfer'] },
    title: name(200),
    evidence: names,
    materials: {
      type: 'array',
      maxItems: 200,
      description:
        'the material types a case collects; an object marks one deferrable (容缺受理): a case may open without it and must have it uploaded before it completes',
      items: {
        oneOf: [
          name(64),
          {
            type: 'object',
            additionalProperties: false,
            required: ['type'],
            properties: {
              type: name(64),
              deferrable: { type: 'boolean', description: 'true: a case may open without it (容缺受理)' },
              dueDays: { type: 'integer', minimum: 1, maximum: 365, description: 'days it may follow in (deferrable only; default 7)' },
            },
          },
        ],
      },
    },
    onComplete: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['notify'],
        properties: {
          notify: {
            type: 'string',
            pattern: '^[a-z0-9][a-z0-9.-]{1,127}$',
            description: 'the recipient: a member id, or a utility kind (water, electricity, gas, cable, broadband, heat) meaning the member registered for it',
            examples: ['water', 'zj.demo.renshe'],
          },
          request: { enum: ['transfer', 'discount', 'benefit'], description: 'what it is asked to do (default transfer)' },
          benefit: {
            type: 'string',
            pattern: '^[a-z][a-z0-9-]{1,63}$',
            description: 'which benefit: required for a benefit request, only there',
            examples: ['education-aid'],
          },
          fields: {
            type: 'array',
            items: { enum: ['idNumber', 'role'] },
            maxItems: 2,
            description: 'what the recipient receives about the beneficiary beyond name and masked ID number',
          },
          materials: { ...names, description: 'submitted materials this recipient receives (as signed links)' },
          holderRole: {
            type: 'string',
            pattern: '^[a-z][a-z0-9-]{0,31}$',
            description: 'role of the party who holds the account afterwards (default: the first party)',
            examples: ['buyer'],
          },
          optional: {
            type: 'boolean',
            description: "true: sent only when the case names an account for the recipient's utility kind (cable, broadband in a property transfer)",
          },
        },
      },
    },
    approvals: {
      type: 'array',
      maxItems: 20,
      description: '并联审批: departments that must approve a case of the matter, all at once, each within its time limit (承诺时限)',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['by', 'timeLimitHours'],
        properties: {
          by: {
            type: 'string',
            pattern: '^[a-z0-9][a-z0-9.-]{1,127}$',
            description: 'the approving department (a member of kind department)',
            examples: ['zj.demo.budongchan'],
          },
          timeLimitHours: { type: 'integer', minimum: 1, maximum: 8760, description: 'the task is overdue this many hours after the case opened' },
        },
      },
    },
  },
};
