// docs/api-reference.md, from the committed OpenAPI documents (docs/openapi/<app>.json): every
// operation with who may call it, its parameters, its request body's fields and its responses with
// their problem codes. Who may call an operation is not in the documents (roles are checked in the
// use cases), so it is kept here, read from the code, per operationId; an operation missing from
// this table stops the generator, so a new route cannot go undocumented.
import { loadConfig } from '@datarun/config';
import { PROBLEM_CODES } from '@datarun/problems';
import { cell, code, table } from './markdown.js';

/** The apps, in the order the reference shows them. */
export const API_APPS = ['gateway', 'registry', 'audit', 'relay', 'connector', 'sandbox'] as const;
export type ApiApp = (typeof API_APPS)[number];

const NO_TOKEN = 'anyone, no token';
const ANY_TOKEN = 'any valid token (members and citizens)';
const ANY_MEMBER = 'any member (a citizen token is `403 ROLE_FORBIDDEN`)';
const CASE_OWNER = 'the consumer that opened the case (for anyone else the case does not exist: `404 CASE_NOT_FOUND`)';
const SOURCE_OWNER = 'the department that owns the source (`403 NOT_OWNER` for another department)';
const SANDBOX = 'anyone, no token (the sandbox serves development, tests and benchmarks only)';

/** Who may call each operation, by operationId (an `x-datarun-roles` extension in the document wins). */
export const WHO_MAY_CALL: Readonly<Record<string, string>> = {
  getLiveness: NO_TOKEN,
  getReadiness: NO_TOKEN,
  getMetrics: NO_TOKEN,
  // gateway
  openCase: 'consumer (a service-hall system)',
  getCase: CASE_OWNER,
  withdrawCase: CASE_OWNER,
  completeCase: CASE_OWNER,
  uploadMaterial: CASE_OWNER,
  resendTransfer: CASE_OWNER,
  lookup: 'consumer, with an approved grant naming the field and the purpose, under its own open case whose party the subject is',
  verify:
    'consumer, with an approved grant naming the claimed fields (`fields` or `verifyFields`) and the purpose, under its own open case whose party the subject is',
  bundleEvidence: `${CASE_OWNER}; each item is decided by the grants as a lookup is`,
  fetchMaterial: "the recipient member the link was issued to (its own token; the link's signature names the request and the member)",
  listRequests: 'utility or department (the requests addressed to it)',
  listApprovals: 'department (its own approval tasks)',
  listCases: 'consumer (its own cases)',
  listMyCases: 'citizen (the cases where they are a party)',
  getMatterStats: 'admin or auditor',
  approveApproval: 'the department the task names',
  rejectApproval: 'the department the task names',
  getRequest: "utility or department (the request's recipient only)",
  reportRequestStatus: "utility or department (the request's recipient only)",
  getPlatformJwks: `${NO_TOKEN} (departments fetch it to verify datarun's calls)`,
  // registry
  registerMember: 'admin',
  getMember: ANY_MEMBER,
  listMembers: 'admin',
  replaceMemberKeys: 'the member itself, or an admin',
  removeMemberKey: 'the member itself, or an admin',
  suspendMember: 'admin (not its own member)',
  reinstateMember: 'admin',
  setMemberRecipient: 'the member itself, or an admin',
  registerSource: 'department (it becomes the owner)',
  getSource: ANY_MEMBER,
  publishSourceVersion: SOURCE_OWNER,
  pushRecords: SOURCE_OWNER,
  getCatalog: ANY_MEMBER,
  requestGrant: 'consumer or utility',
  listGrants: 'department (the grants on its sources), consumer or utility (its own), admin (all)',
  getGrant: 'admin, the grant’s consumer, or the department that owns its source (anyone else: `404 GRANT_NOT_FOUND`)',
  approveGrant: SOURCE_OWNER,
  rejectGrant: SOURCE_OWNER,
  revokeGrant: SOURCE_OWNER,
  registerMatter: 'admin',
  listMatters: ANY_MEMBER,
  getMatter: ANY_MEMBER,
  // audit
  searchAuditEvents: 'auditor',
  proveAuditEvent: 'auditor',
  verifyAuditLog: 'auditor or admin',
  getLatestCheckpoint: ANY_TOKEN,
  signCheckpoint: 'admin',
  getAnomalyReport: 'auditor',
  getMyAccessLog: 'citizen (a token of the citizen identity provider)',
  // relay
  listDeadLetters: 'admin',
  replayDeadLetter: 'admin',
  // sandbox
  getDepartmentRecord:
    "datarun's calls only: a platform token for the department's source (`401` for anyone else); the sandbox serves development, tests and benchmarks only",
  getRecipientSummary: SANDBOX,
  listRecipientRequests: SANDBOX,
  applyRecipientRequest: SANDBOX,
  getRecipientReceivedMaterial: SANDBOX,
  listWebhookReceipts: SANDBOX,
  deliverWebhook: "no token: the relay's delivery, refused without datarun's signature (the delivery key) for that endpoint",
  getUtilitySummary: SANDBOX,
  getUtilityAccount: SANDBOX,
  setUtilityLatency: `${SANDBOX}; only when NODE_ENV is development or test`,
  startUtilityOutage: `${SANDBOX}; only when NODE_ENV is development or test`,
  reopenUtilityAccount: `${SANDBOX}; only when NODE_ENV is development or test`,
  applyUtilityRequest: SANDBOX,
  listUtilityRequests: SANDBOX,
  getUtilityReceivedMaterial: SANDBOX,
};

interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  description?: string;
  examples?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; description?: string; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
  security?: Array<Record<string, string[]>>;
  'x-datarun-roles'?: string | string[];
}

export interface OpenApiDocument {
  info: { title: string; description?: string; version?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
  security?: Array<Record<string, string[]>>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const KNOWN_CODES = new Set(Object.keys(PROBLEM_CODES));

function resolve(doc: OpenApiDocument, schema: Schema | undefined, seen = new Set<string>()): Schema | undefined {
  if (!schema?.$ref) return schema;
  const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
  if (!name || seen.has(name)) return undefined;
  seen.add(name);
  return resolve(doc, doc.components?.schemas?.[name], seen);
}

/** The properties of an object schema, merged over allOf. */
function propertiesOf(doc: OpenApiDocument, schema: Schema | undefined): { properties: Record<string, Schema>; required: Set<string> } {
  const s = resolve(doc, schema);
  const properties: Record<string, Schema> = { ...(s?.properties ?? {}) };
  const required = new Set(s?.required ?? []);
  for (const part of s?.allOf ?? []) {
    const inner = propertiesOf(doc, part);
    Object.assign(properties, inner.properties);
    for (const r of inner.required) required.add(r);
  }
  return { properties, required };
}

function typeOf(doc: OpenApiDocument, schema: Schema | undefined): string {
  const s = resolve(doc, schema);
  if (!s) return schema?.$ref ? schema.$ref.split('/').pop()! : 'any';
  const named = schema?.$ref ? ` (${schema.$ref.split('/').pop()})` : '';
  if (s.enum) return s.enum.map((v) => code(String(v))).join(', ');
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return alternatives.map((a) => typeOf(doc, a)).join(' or ');
  const type = Array.isArray(s.type) ? s.type.filter((t) => t !== 'null').join(' or ') : s.type;
  if (type === 'array') return `array of ${typeOf(doc, s.items)}`;
  if (type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) {
    return `map of ${typeOf(doc, s.additionalProperties)}`;
  }
  return `${type ?? (s.properties ? 'object' : 'any')}${s.format ? ` (${s.format})` : ''}${named}`;
}

function constraintsOf(schema: Schema | undefined): string {
  if (!schema) return '';
  const parts: string[] = [];
  const range = (min: number | undefined, max: number | undefined, unit: string) => {
    if (min !== undefined && max !== undefined) parts.push(`${min}–${max} ${unit}`);
    else if (min !== undefined) parts.push(`at least ${min} ${unit}`);
    else if (max !== undefined) parts.push(`at most ${max} ${unit}`);
  };
  range(schema.minLength, schema.maxLength, 'characters');
  range(schema.minItems, schema.maxItems, 'items');
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum}–${schema.maximum}`);
  else if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  else if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (schema.maxProperties !== undefined) parts.push(`at most ${schema.maxProperties} entries`);
  if (schema.pattern) parts.push(`pattern ${code(schema.pattern)}`);
  if (schema.examples?.length) parts.push(`e.g. ${code(JSON.stringify(schema.examples[0]))}`);
  if (schema.description) parts.unshift(schema.description);
  return parts.join('; ');
}

/** Every field of a body, nested ones by their path (`parties[].idNumber`), to a few levels. */
function fieldRows(doc: OpenApiDocument, schema: Schema | undefined, prefix = '', depth = 0): string[][] {
  const { properties, required } = propertiesOf(doc, schema);
  const rows: string[][] = [];
  for (const [name, raw] of Object.entries(properties)) {
    const s = resolve(doc, raw);
    const path = `${prefix}${name}`;
    rows.push([code(path), cell(typeOf(doc, raw)), required.has(name) ? 'yes' : 'no', cell(constraintsOf(s))]);
    if (depth >= 3 || !s) continue;
    const type = Array.isArray(s.type) ? s.type : [s.type];
    if (type.includes('object') && s.properties) rows.push(...fieldRows(doc, s, `${path}.`, depth + 1));
    const items = resolve(doc, s.items);
    if (type.includes('array') && items?.properties) rows.push(...fieldRows(doc, items, `${path}[].`, depth + 1));
  }
  return rows;
}

/**
 * The stable problem codes a response names: the `code` enum of its problem schema (narrowed by
 * `allOf`, as the documents do it: the shared Problem schema lists every code, the response's own
 * part the ones it can give), else the codes its description names.
 */
export function problemCodesOf(doc: OpenApiDocument, response: { description?: string; content?: Record<string, { schema?: Schema }> }): string[] {
  const codesOf = (schema: Schema | undefined, seen: Set<Schema>): Set<string> | undefined => {
    const s = resolve(doc, schema);
    if (!s || seen.has(s)) return undefined;
    seen.add(s);
    let codes: Set<string> | undefined;
    const code = resolve(doc, s.properties?.code);
    const listed = [...(code?.enum ?? []), ...(code?.const === undefined ? [] : [code.const])].filter((v): v is string => typeof v === 'string');
    if (listed.length) codes = new Set(listed);
    for (const part of s.allOf ?? []) {
      const inner = codesOf(part, seen);
      if (inner) codes = codes ? new Set([...codes].filter((c) => inner.has(c))) : inner;
    }
    const alternatives = [...(s.oneOf ?? []), ...(s.anyOf ?? [])].map((a) => codesOf(a, seen)).filter((c): c is Set<string> => c !== undefined);
    if (alternatives.length) {
      const union = new Set(alternatives.flatMap((a) => [...a]));
      codes = codes ? new Set([...codes].filter((c) => union.has(c))) : union;
    }
    return codes;
  };
  for (const media of Object.values(response.content ?? {})) {
    const codes = codesOf(media.schema, new Set());
    if (codes?.size) return [...codes].filter((c) => KNOWN_CODES.has(c));
  }
  const named = new Set<string>();
  for (const match of (response.description ?? '').matchAll(/\b[A-Z][A-Z0-9_]{2,}\b/g)) if (KNOWN_CODES.has(match[0])) named.add(match[0]);
  return [...named];
}

function whoMayCall(op: Operation, doc: OpenApiDocument): string {
  const declared = op['x-datarun-roles'];
  if (declared) return Array.isArray(declared) ? declared.join(', ') : declared;
  const who = op.operationId ? WHO_MAY_CALL[op.operationId] : undefined;
  if (!who)
    throw new Error(
      `${doc.info.title}: operation ${op.operationId ?? '(no operationId)'} is not in WHO_MAY_CALL (scripts/docs/api-reference.ts): say who may call it`,
    );
  return who;
}

function needsToken(op: Operation, doc: OpenApiDocument): boolean {
  const security = op.security ?? doc.security ?? [];
  return security.some((requirement) => Object.keys(requirement).length > 0);
}

function summaryOf(media: Record<string, { schema?: Schema }> | undefined, doc: OpenApiDocument): string {
  if (!media) return '';
  return Object.entries(media)
    .map(([type, m]) => {
      const s = resolve(doc, m.schema);
      const name = m.schema?.$ref?.split('/').pop();
      const fields = Object.keys(propertiesOf(doc, s).properties);
      const shape = fields.length ? ` {${fields.join(', ')}}` : s ? ` ${typeOf(doc, m.schema)}` : '';
      return `${code(type)}${name ? ` ${name}` : ''}${shape}`;
    })
    .join('; ');
}

function operationSection(doc: OpenApiDocument, method: string, path: string, op: Operation): string {
  const lines = [`### ${code(`${method.toUpperCase()} ${path}`)}: ${op.summary ?? op.operationId ?? ''}`, ''];
  if (op.description) lines.push(op.description, '');
  lines.push(`- Who may call: ${whoMayCall(op, doc)}.`);
  lines.push(`- Token: ${needsToken(op, doc) ? '`Authorization: Bearer <JWT>` (see api.md)' : 'none'}.`);
  if (op.operationId) lines.push(`- operationId: ${code(op.operationId)}.`);
  lines.push('');
  const parameters = op.parameters ?? [];
  if (parameters.length) {
    lines.push(
      table(
        ['parameter', 'in', 'required', 'type', 'description'],
        parameters.map((p) => [
          code(p.name),
          p.in,
          p.required ? 'yes' : 'no',
          cell(typeOf(doc, p.schema)),
          cell([p.description, constraintsOf(resolve(doc, p.schema))].filter(Boolean).join('; ')),
        ]),
      ),
      '',
    );
  }
  if (op.requestBody) {
    const content = op.requestBody.content ?? {};
    const types = Object.keys(content);
    lines.push(
      `Request body (${op.requestBody.required ? 'required' : 'optional'}; ${types.map(code).join(', ') || 'no content type'})${op.requestBody.description ? `: ${op.requestBody.description}` : ''}.`,
      '',
    );
    const json = content['application/json']?.schema;
    const rows = json ? fieldRows(doc, json) : [];
    if (rows.length) lines.push(table(['field', 'type', 'required', 'constraints'], rows), '');
    else if (json) lines.push(`Schema: ${cell(typeOf(doc, json))}.`, '');
  }
  const responses = Object.entries(op.responses ?? {}).sort(([a], [b]) => a.localeCompare(b));
  lines.push(
    table(
      ['status', 'answer', 'body', 'problem codes'],
      responses.map(([status, r]) => {
        const codes = problemCodesOf(doc, r);
        const problem = Object.keys(r.content ?? {}).some((t) => t.includes('problem+json'));
        const description = (r.description ?? '').replace(/^application\/problem\+json:\s*/, '');
        return [
          status,
          cell(description),
          problem ? '`application/problem+json`' : cell(summaryOf(r.content, doc)),
          codes.length ? codes.map(code).join(', ') : '—',
        ];
      }),
    ),
    '',
  );
  return lines.join('\n');
}

/** The whole reference, one section per app. */
export function apiReference(documents: Partial<Record<ApiApp, OpenApiDocument>>): string {
  const ports = loadConfig({}).ports;
  const port = (app: ApiApp) => (app === 'connector' ? `${ports.connector} and up (one per connector \`npm start\` runs)` : String(ports[app]));
  const present = API_APPS.filter((app) => documents[app]);
  const count = (d: OpenApiDocument) => Object.values(d.paths).reduce((n, ops) => n + Object.keys(ops).filter((m) => METHODS.includes(m)).length, 0);
  const lines = [
    '# API reference',
    '',
    'Every operation of every datarun app, generated by `npm run generate` from the OpenAPI documents committed in [openapi/](openapi/) (the documents the apps serve at `/openapi.json`). Do not edit this file: change the controllers, export the documents again, and run `npm run generate`.',
    '',
    'How to call datarun (tokens and roles), the problem+json errors with every stable code, and the Kafka events are in [api.md](api.md).',
    '',
    table(
      ['app', 'default port', 'what it serves', 'operations', 'OpenAPI'],
      present.map((app) => [
        `[${app}](#${app})`,
        port(app),
        cell(documents[app]!.info.description),
        String(count(documents[app]!)),
        `[openapi/${app}.json](openapi/${app}.json)`,
      ]),
    ),
    '',
    'Every app also serves `GET /openapi.json` and a browsable `/docs` (not listed below).',
    '',
  ];
  for (const app of present) {
    const doc = documents[app]!;
    lines.push(`## ${app}`, '', `${doc.info.description ?? ''} Default port ${port(app)}.`, '');
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => METHODS.filter((m) => ops[m]).map((method) => ({ method, path, op: ops[method] })));
    lines.push(
      table(
        ['operation', 'summary', 'who may call'],
        operations.map(({ method, path, op }) => [code(`${method.toUpperCase()} ${path}`), cell(op.summary), cell(whoMayCall(op, doc))]),
      ),
      '',
    );
    for (const { method, path, op } of operations) lines.push(operationSection(doc, method, path, op));
    lines.push(...schemaSections(doc, app));
  }
  return lines.join('\n');
}

/** The named schemas of an app's answers, with their fields. */
function schemaSections(doc: OpenApiDocument, app: string): string[] {
  const schemas = Object.entries(doc.components?.schemas ?? {});
  if (schemas.length === 0) return [];
  const lines = [`### Schemas of the ${app}`, ''];
  for (const [name, schema] of schemas.sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`#### ${name}`, '');
    if (schema.description) lines.push(schema.description, '');
    const rows = fieldRows(doc, schema);
    lines.push(rows.length ? table(['field', 'type', 'required', 'constraints'], rows) : `${cell(typeOf(doc, schema))}.`, '');
  }
  return lines;
}

/** Every stable problem code with its HTTP status and title, from libs/problems (for docs/api.md). */
export function problemCodesTable(): string {
  const entries = Object.entries(PROBLEM_CODES) as Array<[string, readonly [number, string]]>;
  return table(
    ['status', 'code', 'title'],
    [...entries].sort((a, b) => a[1][0] - b[1][0]).map(([name, [status, title]]) => [String(status), code(name), cell(title)]),
  );
}
