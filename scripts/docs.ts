// Step of `npm run generate` (scripts/generate.sh): writes the generated parts of the project's documentation from their sources —
// docs/configuration.md's table from the config schema (libs/config), docs/api.md's problem codes
// from libs/problems, docs/api-reference.md from the committed OpenAPI documents (docs/openapi/),
// and docs/performance.md's tables from the recorded benchmark (docs/performance/results.json).
// `node --import ./scripts/ts-hooks.mjs scripts/docs.ts --check` changes nothing and exits 1 when a committed document differs.
// Runs from the sources (scripts/ts-hooks.mjs), so it never needs or touches the build.
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { API_APPS, type ApiApp, apiReference, type OpenApiDocument, problemCodesTable } from './docs/api-reference.js';
import { CONFIGURATION_SOURCE, configurationTable } from './docs/configuration.js';
import { formatMarkdown, replaceGenerated } from './docs/markdown.js';
import { performanceReport, RECORDED_RESULTS_PATH } from './docs/performance.js';
import type { RecordedResults } from '../test/bench/record.js';

export interface GeneratedDoc {
  /** Relative to the repository root. */
  readonly path: string;
  readonly content: string;
}

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

/** Every generated document as it should be committed (hand-written parts kept), Prettier-formatted. */
export async function generateDocs(root = process.cwd()): Promise<GeneratedDoc[]> {
  const documents: Partial<Record<ApiApp, OpenApiDocument>> = {};
  for (const app of API_APPS) {
    try {
      documents[app] = JSON.parse(read(root, `docs/openapi/${app}.json`)) as OpenApiDocument;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  let results: RecordedResults | undefined;
  try {
    results = JSON.parse(read(root, RECORDED_RESULTS_PATH)) as RecordedResults;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const docs: GeneratedDoc[] = [
    {
      path: 'docs/configuration.md',
      content: replaceGenerated(read(root, 'docs/configuration.md'), 'configuration', CONFIGURATION_SOURCE, configurationTable()),
    },
    { path: 'docs/api.md', content: replaceGenerated(read(root, 'docs/api.md'), 'problem-codes', 'libs/problems/src/problem.ts', problemCodesTable()) },
    { path: 'docs/api-reference.md', content: apiReference(documents) },
    {
      path: 'docs/performance.md',
      content: replaceGenerated(
        read(root, 'docs/performance.md'),
        'benchmark',
        RECORDED_RESULTS_PATH,
        results ? performanceReport(results) : 'No run has been recorded yet: `npm run bench -- --record` records one.',
      ),
    },
  ];
  return Promise.all(docs.map(async (d) => ({ path: d.path, content: await formatMarkdown(d.content, join(root, d.path)) })));
}

/** The generated documents whose committed content differs from what the generator makes. */
export async function staleDocs(root = process.cwd()): Promise<string[]> {
  const stale: string[] = [];
  for (const doc of await generateDocs(root)) {
    let committed: string | undefined;
    try {
      committed = read(root, doc.path);
    } catch {
      committed = undefined;
    }
    if (committed !== doc.content) stale.push(doc.path);
  }
  return stale;
}

/** Writes the generated documents; returns the paths that changed. */
export async function writeDocs(root = process.cwd()): Promise<string[]> {
  const changed = await staleDocs(root);
  for (const doc of await generateDocs(root)) if (changed.includes(doc.path)) writeFileSync(join(root, doc.path), doc.content);
  return changed;
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  try {
    if (process.argv.includes('--check')) {
      const stale = await staleDocs();
      if (stale.length) {
        console.error(`docs: out of date: ${stale.join(', ')}; run npm run generate`);
        process.exitCode = 1;
      } else console.log('docs: every generated document is up to date');
    } else {
      const changed = await writeDocs();
      console.log(changed.length ? `docs: wrote ${changed.join(', ')}` : 'docs: every generated document is up to date');
    }
  } catch (error) {
    console.error(`docs: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
