import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check, resolveConfig } from 'prettier';
import { OPENAPI_DIR, openApiDrift, openApiJson, stableDocument } from './openapi-files.js';

const DOCUMENT = {
  openapi: '3.1.0',
  paths: {
    '/v1/cases/{id}': { get: { operationId: 'getCase', responses: { '404': { description: 'gone' }, '200': { description: 'the case' } } } },
    '/health/live': { get: { operationId: 'getLiveness', responses: { '200': { description: 'up' } } } },
  },
  components: { schemas: { Problem: { type: 'object' }, Case: { type: 'object', properties: { state: { type: 'string' }, id: { type: 'string' } } } } },
};

describe('the drift check', () => {
  it('passes a document equal to the committed one, whatever its key order', () => {
    const committed = JSON.parse(JSON.stringify(stableDocument(DOCUMENT)));
    const reordered = { components: DOCUMENT.components, paths: DOCUMENT.paths, openapi: DOCUMENT.openapi };
    expect(openApiDrift('gateway', reordered, committed)).toBeUndefined();
  });

  it.each([
    [
      'a changed description',
      (d: typeof DOCUMENT) => void (d.paths['/v1/cases/{id}'].get.responses['200'].description = 'a case'),
      'paths > /v1/cases/{id} > get > responses > 200 > description',
    ],
    ['a new route', (d: typeof DOCUMENT) => void Object.assign(d.paths, { '/v1/cases': { post: {} } }), 'paths > /v1/cases'],
    ['a removed schema', (d: typeof DOCUMENT) => void delete (d.components.schemas as Record<string, unknown>).Case, 'components > schemas > Case'],
  ])('fails on %s, naming the app, where, and what to run', (_, change, where) => {
    const committed = JSON.parse(JSON.stringify(stableDocument(DOCUMENT)));
    const served = structuredClone(DOCUMENT);
    change(served);
    expect(openApiDrift('gateway', served, committed)).toBe(
      `the gateway app serves an OpenAPI document that differs from the committed docs/openapi/gateway.json (first at ${where}): run npm run generate and commit docs/openapi`,
    );
  });
});

describe('the committed form', () => {
  it('sorts paths, responses and components, and keeps the order of a schema’s fields', () => {
    const stable = stableDocument(DOCUMENT);
    expect(Object.keys(stable.paths)).toEqual(['/health/live', '/v1/cases/{id}']);
    expect(Object.keys(stable.paths['/v1/cases/{id}'].get.responses)).toEqual(['200', '404']);
    expect(Object.keys(stable.components.schemas)).toEqual(['Case', 'Problem']);
    expect(Object.keys(stable.components.schemas.Case.properties)).toEqual(['state', 'id']);
  });

  it('is what the Prettier check of the tree accepts', async () => {
    const path = join(OPENAPI_DIR, 'gateway.json');
    expect(await check(await openApiJson(DOCUMENT, path), { ...(await resolveConfig(path)), filepath: path })).toBe(true);
  });
});

// What the issue asks of the committed contract, checked on the files themselves: every
// operation is named, summarised and tagged, answers success with a schema (or 204 without a
// body), and answers every failure as a Problem.
type Operation = {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string; allOf?: Array<{ $ref?: string }> } }> }>;
};
const committed = readdirSync(OPENAPI_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(join(OPENAPI_DIR, f), 'utf8')) as { paths: Record<string, Record<string, Operation>> }] as const);

describe.each(committed)('docs/openapi/%s', (_, document) => {
  const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => [`${method} ${path}`, op] as const));

  it('has operations, each with an operationId, a summary and a tag', () => {
    expect(operations.length).toBeGreaterThan(0);
    expect(operations.filter(([, op]) => !op.operationId || !op.summary || !op.tags?.length).map(([name]) => name)).toEqual([]);
  });

  it('gives every success answer a schema, or none for 204', () => {
    const bare = operations.flatMap(([name, op]) => {
      const successes = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
      if (successes.length === 0) return [`${name}: no success answer`];
      return successes
        .filter(([status, r]) => (status === '204' ? r.content !== undefined : !Object.values(r.content ?? {}).some((m) => m.schema)))
        .map(([status]) => `${name} ${status}`);
    });
    expect(bare).toEqual([]);
  });

  it('answers every failure as application/problem+json with the Problem schema', () => {
    const PROBLEM = '#/components/schemas/Problem';
    const wrong = operations.flatMap(([name, op]) =>
      Object.entries(op.responses)
        .filter(([status]) => Number(status) >= 400)
        .filter(([, r]) => {
          const schema = r.content?.['application/problem+json']?.schema;
          return Object.keys(r.content ?? {}).length !== 1 || (schema?.$ref !== PROBLEM && schema?.allOf?.[0]?.$ref !== PROBLEM);
        })
        .map(([status]) => `${name} ${status}`),
    );
    expect(wrong).toEqual([]);
  });
});
