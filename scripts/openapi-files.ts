// The committed form of the OpenAPI documents (docs/openapi/<app>.json) and the comparison the
// contract test makes between what an app serves and what is committed. No app is imported here.
import { isDeepStrictEqual } from 'node:util';
import { basename, join } from 'node:path';
import { format, resolveConfig } from 'prettier';

export const OPENAPI_DIR = 'docs/openapi';

export const openApiFile = (dir: string, app: string) => join(dir, `${app}.json`);

/**
 * A document with its maps in a stable order: paths, components and the responses of each
 * operation sorted by key, so the file changes only when the contract does. Everything else
 * keeps the order the code gives it (fields of a schema in the order they are written).
 */
export function stableDocument<T>(document: T): T {
  const doc = structuredClone(document) as Record<string, unknown> & {
    paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    components?: Record<string, Record<string, unknown>>;
  };
  const sorted = <V>(map: Record<string, V>) => Object.fromEntries(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (doc.paths) {
    for (const item of Object.values(doc.paths)) for (const op of Object.values(item)) if (op?.responses) op.responses = sorted(op.responses);
    doc.paths = sorted(doc.paths);
  }
  if (doc.components) {
    for (const [section, entries] of Object.entries(doc.components)) doc.components[section] = sorted(entries);
    doc.components = sorted(doc.components);
  }
  return doc as T;
}

/** The committed text of a document: stable order, formatted by the project's Prettier settings (wherever it is written). */
export async function openApiJson(document: unknown, path: string): Promise<string> {
  const options = (await resolveConfig(join(OPENAPI_DIR, basename(path)))) ?? {};
  // Indented first: Prettier keeps an object expanded when its source was, which keeps diffs to a line.
  return format(JSON.stringify(stableDocument(document), null, 2), { ...options, filepath: path });
}

/**
 * Where the document an app serves differs from the committed one, as a message for the test
 * that fails on it; undefined when they are the same (key order aside: only content counts).
 */
export function openApiDrift(app: string, served: unknown, committed: unknown): string | undefined {
  const expected = JSON.parse(JSON.stringify(stableDocument(served))) as unknown;
  if (isDeepStrictEqual(expected, committed)) return undefined;
  const where = firstDifference(expected, committed, []) ?? [];
  return (
    `the ${app} app serves an OpenAPI document that differs from the committed ${openApiFile(OPENAPI_DIR, app)} ` +
    `(first at ${where.length ? where.join(' > ') : 'the top'}): run npm run generate and commit docs/openapi`
  );
}

function firstDifference(a: unknown, b: unknown, path: string[]): string[] | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], [...path, key]);
    if (found) return found;
  }
  return path;
}
