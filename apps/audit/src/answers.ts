// The answers of the audit API, as JSON Schemas of what the audit lib returns (AuditItem,
// InclusionAnswer, VerifyReport, SignedCheckpoint, Finding, AccessLogEntry): published in the
// OpenAPI document and checked against real answers by the e2e tests. A `title` names a component.
import { closedObject, COUNT, DATE_TIME, listOf, nullable, SHA256_HEX, STRING, STRINGS, UUID } from '@datarun/platform';

const SEQ = { type: 'integer', minimum: 1, description: 'The sequence number in the audit chain' };

export const AUDIT_EVENT = closedObject(
  {
    id: { ...UUID, description: 'The auditId that answers carry' },
    seq: SEQ,
    at: DATE_TIME,
    member: { ...STRING, description: 'The calling member' },
    actor: { ...STRING, description: 'The acting person (token sub) or system' },
    action: { ...STRING, examples: ['lookup', 'verify', 'case.opened'] },
    source: nullable(STRING),
    caseId: nullable(STRING),
    object: nullable({ ...STRING, description: 'What a change acted on, e.g. grant:<id>' }),
    purpose: nullable({ ...STRING, description: 'The matter code an access was for' }),
    fields: { ...STRINGS, description: 'The fields an access read or verified' },
    decision: { enum: ['allowed', 'denied', 'failed'] },
    reason: nullable({ ...STRING, description: 'The problem code of a refusal or failure; on a request sent to a recipient, `sent to <member> on <topic>`' }),
    correlationId: nullable({
      ...STRING,
      description: 'The request or consumed message it happened in (x-request-id, traceparent trace id, ce_correlationid); null on older records',
    }),
  },
  {},
  { title: 'AuditEvent' },
);

export const AUDIT_EVENT_PAGE = closedObject(
  { items: { type: 'array', items: AUDIT_EVENT } },
  { next: { ...STRING, description: 'Pass as `cursor` for the next (older) page; absent on the last page' } },
  { title: 'AuditEventPage' },
);

/** ndjson and csv exports: the whole result as one download. */
export const AUDIT_EVENT_EXPORT = { type: 'string', description: 'One event a line (ndjson) or a header row and one row an event (csv)' };

export const SIGNED_CHECKPOINT = closedObject(
  {
    seq: { ...COUNT, description: 'The last record the checkpoint covers (0: the empty log)' },
    chainHash: { ...SHA256_HEX, description: "The hash chain's value at seq, lower-case hex" },
    rootHash: { ...SHA256_HEX, description: 'The RFC 6962 Merkle tree head over records 1..seq, lower-case hex' },
    signedAt: DATE_TIME,
    alg: { const: 'ES256' },
    kid: STRING,
    signature: {
      type: 'string',
      pattern: '^[A-Za-z0-9_-]{86}$',
      description: 'ES256 (IEEE P1363 r || s), base64url without padding, over the RFC 8785 canonical JSON of the checkpoint without signature and publicKey',
    },
    publicKey: {
      type: 'object',
      required: ['kty'],
      properties: { kty: STRING },
      description: "The signer's public JWK; informational only: verify against the key you trust",
    },
  },
  {},
  { title: 'SignedCheckpoint' },
);

export const INCLUSION_PROOF = closedObject(
  {
    seq: SEQ,
    leafIndex: { ...COUNT, description: 'seq - 1' },
    canonical: { type: 'string', contentEncoding: 'base64', description: "The event's hashed bytes: the leaf is SHA-256(0x00 || bytes)" },
    leafHash: SHA256_HEX,
    treeSize: { type: 'integer', minimum: 1 },
    proof: { type: 'array', items: SHA256_HEX, description: 'The RFC 6962 audit path, from the leaf upwards' },
    checkpoint: SIGNED_CHECKPOINT,
  },
  {},
  { title: 'InclusionProof' },
);

export const VERIFY_REPORT = closedObject(
  {
    ok: { type: 'boolean' },
    checked: { ...COUNT, description: 'Records whose hashes were recomputed' },
    lastSeq: { ...COUNT, description: 'The last sequence number in the range (after a failure: the last record that verified)' },
    checkpointsVerified: { ...COUNT, description: 'Checkpoints whose signature and hashes matched' },
  },
  {
    firstBadSeq: SEQ,
    reason: { enum: ['gap', 'order', 'columns', 'hash', 'checkpoint-signature', 'checkpoint-mismatch', 'truncated', 'archive'] },
  },
  { title: 'VerifyReport' },
);

export const ANOMALY_REPORT = closedObject(
  {
    from: DATE_TIME,
    to: DATE_TIME,
    findings: {
      type: 'array',
      items: closedObject(
        {
          kind: { enum: ['subject-not-in-open-case', 'off-hours-burst', 'many-actors-one-subject', 'denial-spike'] },
          member: STRING,
          count: { type: 'integer', minimum: 1 },
          first: DATE_TIME,
          last: DATE_TIME,
          auditIds: { type: 'array', items: UUID },
        },
        { actor: STRING, subject: { ...STRING, description: 'The subject pseudonym, never the ID number' } },
        { title: 'AnomalyFinding' },
      ),
    },
  },
  {},
  { title: 'AnomalyReport' },
);

export const ACCESS_LOG = listOf(
  closedObject(
    {
      at: DATE_TIME,
      kind: {
        enum: ['lookup', 'request', 'material'],
        description:
          'lookup: the organisation read or verified a record of mine; request: datarun sent it a request carrying my data (fields); material: it fetched a material of my case (fields: its type)',
      },
      organisation: closedObject({ id: STRING, name: STRING }, {}, { description: 'Who read or received my data: the member and its registered name' }),
      source: nullable(closedObject({ id: STRING, title: nullable(STRING) }, {}, { description: 'The source read; null for a request or a material' })),
      matter: closedObject({ code: nullable(STRING), title: nullable(STRING) }),
      caseId: nullable(STRING),
      requestId: nullable({ ...STRING, description: 'The request a request or material entry belongs to; null for a lookup' }),
      fields: { ...STRINGS, description: 'The fields read, the fields a request carried (e.g. name, idNumberMasked, property), or the material type fetched' },
    },
    {},
    {
      title: 'AccessLogEntry',
      description:
        'Which organisation read which of my records, or received my data in a request or fetched a material of my case, when and for which matter; never the clerk',
    },
  ),
  { title: 'AccessLog' },
);
