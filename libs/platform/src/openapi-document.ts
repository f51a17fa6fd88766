import type { ProblemCode } from '@datarun/problems';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, type OperationObject, type RequestBodyObject, type ResponseObject, SwaggerModule } from '@nestjs/swagger';
import { problemCodesOf, problemResponse } from './api-problems.js';

/** What an app says about itself: its name in logs and the title and description of its OpenAPI document. */
export interface AppAbout {
  readonly name: string;
  readonly description?: string;
}

/**
 * The OpenAPI document of an app: what it serves at /openapi.json and what docs/openapi/<app>.json
 * commits (scripts/openapi-export.ts builds it without connecting to anything). OpenAPI 3.1, so
 * the JSON Schemas of bodies and answers are published as they are validated (2020-12).
 */
export function openApiDocument(app: INestApplication, about: AppAbout): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle(`datarun ${about.name}`)
    .setDescription(about.description ?? '')
    .setVersion('1')
    // Relative: each app serves its own document, on the port its configuration gives it.
    .addServer('/', 'The app that serves this document')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A JWT signed by the calling member's own key (docs/api.md)" })
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      // @PublicRoute() gives `[{}]` (ApiSecurity's only way to say "no scheme"); `[]` says the same plainly.
      if (operation.security?.length === 1 && Object.keys(operation.security[0]).length === 0) operation.security = [];
      addCommonProblems(operation);
    }
  }
  publishTitledSchemas(document);
  document.tags = describedTags(document);
  return document;
}

/** What each tag of an operation groups, for the readers of the document (the sections of docs/api.md). */
const TAGS: Readonly<Record<string, string>> = {
  members: 'Registry: members (departments, consumers, utilities, auditors, admins) and their keys',
  sources: 'Registry: data sources, their schema versions, the resource catalogue and record ingest',
  grants: 'Registry: access grants a consumer requests and the owning department decides',
  matters: 'Registry: matters (事项): the evidence, materials and the recipients a kind of case notifies',
  cases: 'Gateway: cases, their submitted materials and the requests their completion sends',
  approvals: 'Gateway: approval tasks (并联审批) of the departments a matter names, decided in parallel',
  requests: 'Gateway: a recipient’s requests over HTTP (the pull, and its answers) for partners without Kafka',
  exchange: 'Gateway: lookups, verifications and evidence bundles, each audited',
  audit: 'Audit: search, verification, signed checkpoints, reports and the citizen’s access log',
  operations: 'Probes, metrics and dead letters: for operators',
  sandbox: 'Simulated departments and utilities with synthetic data, for demos, tests and benchmarks',
};

function describedTags(document: OpenAPIObject): Array<{ name: string; description: string }> {
  const used = new Set(Object.values(document.paths).flatMap((item) => (Object.values(item) as OperationObject[]).flatMap((op) => op.tags ?? [])));
  return [...used].sort().map((name) => {
    const description = TAGS[name];
    if (!description) throw new Error(`the OpenAPI tag ${name} has no description in openapi-document.ts`);
    return { name, description };
  });
}

type CommonProblem = readonly [status: number, codes: readonly ProblemCode[], description: string];

const TOKEN_PROBLEMS: readonly CommonProblem[] = [
  [401, ['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_EXPIRED'], 'TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED: no valid bearer token'],
  [403, ['MEMBER_SUSPENDED'], 'MEMBER_SUSPENDED: the token is genuine but its member is suspended (every token of it is refused)'],
  [429, ['RATE_LIMITED'], "RATE_LIMITED: the rate limit of the remote address, the member or the citizen; retry after the Retry-After header's seconds"],
];
const JSON_BODY_PROBLEMS: readonly CommonProblem[] = [
  [400, ['VALIDATION_FAILED'], 'VALIDATION_FAILED: the body breaks its schema (each violation in `errors`)'],
  [413, ['PAYLOAD_TOO_LARGE'], 'PAYLOAD_TOO_LARGE: the body is larger than this endpoint takes'],
  [415, ['UNSUPPORTED_MEDIA_TYPE'], 'UNSUPPORTED_MEDIA_TYPE: the body is not JSON'],
];
const ANY_ROUTE_PROBLEMS: readonly CommonProblem[] = [[500, ['INTERNAL_ERROR'], 'INTERNAL_ERROR: unexpected; the correlation id finds it in the logs']];

/**
 * What every route of its kind can answer, so that no controller has to repeat it: the edge's
 * 401, 403 and 429 wherever a token is needed, JsonBody's and Fastify's 400, 413 and 415
 * wherever a JSON body is read, and ProblemFilter's 500 everywhere. Codes a route documents for
 * the same status are kept; these are added to them.
 */
function addCommonProblems(operation: OperationObject): void {
  const needsToken = operation.security === undefined || operation.security.length > 0;
  const readsJson = (operation.requestBody as RequestBodyObject | undefined)?.content?.['application/json'] !== undefined;
  const common = [...(needsToken ? TOKEN_PROBLEMS : []), ...(readsJson ? JSON_BODY_PROBLEMS : []), ...ANY_ROUTE_PROBLEMS];
  for (const [status, codes, description] of common) {
    const existing = operation.responses[status] as ResponseObject | undefined;
    if (!existing) {
      operation.responses[status] = problemResponse(status, codes, description);
      continue;
    }
    const known = problemCodesOf(existing);
    if (!known) throw new Error(`${operation.operationId}: answer ${status} is not a problem answer`);
    const missing = codes.filter((code) => !known.includes(code));
    if (missing.length > 0) operation.responses[status] = problemResponse(status, [...known, ...missing], `${existing.description}; ${missing.join(', ')}`);
  }
}

/** Values that are data, not schemas: a `title` inside them names nothing. */
const DATA_KEYWORDS = new Set(['examples', 'example', 'const', 'enum', 'default']);
const COMPONENT_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Every schema (or part of one) with a `title` in the bodies and answers becomes
 * components/schemas/<title>, referenced where it occurs: each is written once as a plain JSON
 * Schema object, and clients generated from the document get a named type for it.
 */
function publishTitledSchemas(document: OpenAPIObject): void {
  const published = new Map<string, { schema: unknown; json: string }>();
  const lift = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(lift);
    if (node === null || typeof node !== 'object') return node;
    const lifted = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, DATA_KEYWORDS.has(key) ? value : lift(value)]));
    const title = (node as { title?: unknown }).title;
    if (typeof title !== 'string') return lifted;
    if (!COMPONENT_NAME.test(title)) throw new Error(`schema title "${title}" cannot name a component`);
    const json = JSON.stringify(lifted);
    const known = published.get(title);
    if (known && known.json !== json) throw new Error(`two different schemas are titled ${title}`);
    published.set(title, { schema: lifted, json });
    return { $ref: `#/components/schemas/${title}` };
  };
  const liftContent = (content: Record<string, { schema?: unknown }> | undefined) => {
    for (const media of Object.values(content ?? {})) if (media.schema) media.schema = lift(media.schema) as typeof media.schema;
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as OperationObject[]) {
      liftContent((operation.requestBody as RequestBodyObject | undefined)?.content);
      for (const response of Object.values(operation.responses) as ResponseObject[]) liftContent(response.content);
    }
  }
  const schemas = (document.components ??= {}).schemas ?? {};
  for (const [title, { schema }] of published) schemas[title] = schema as never;
  document.components.schemas = schemas;
}

/**
 * The document of an app module built in Nest's preview mode: controllers and their decorators
 * are scanned, no provider is instantiated, so nothing connects to PostgreSQL or Kafka.
 */
export async function previewOpenApiDocument(module: DynamicModule, about: AppAbout): Promise<OpenAPIObject> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
  try {
    return openApiDocument(app, about);
  } finally {
    await app.close();
  }
}
