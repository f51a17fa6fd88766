// Helpers of the documentation generator (scripts/docs.ts): generated parts between markers inside
// hand-written Markdown, table cells, and the repository's Prettier style.
import { format, resolveConfig } from 'prettier';

/** The comment that opens the generated part `name`, saying where it comes from. */
export function startMarker(name: string, source: string): string {
  return `<!-- generated:${name} from ${source} by npm run generate; edit the source, not this part -->`;
}

export function endMarker(name: string): string {
  return `<!-- generated:${name} end -->`;
}

/**
 * Replaces the generated part `name` of a hand-written document with `body`. The document must
 * hold both markers once (a missing marker is an error, so a generated part cannot silently vanish).
 */
export function replaceGenerated(document: string, name: string, source: string, body: string): string {
  const start = new RegExp(`<!-- generated:${name} from [^\\n]*-->`);
  const end = endMarker(name);
  const found = start.exec(document);
  const endAt = document.indexOf(end);
  if (!found || endAt < 0 || endAt < found.index) throw new Error(`the generated part "${name}" has no start and end markers in this document`);
  if (document.indexOf(end, endAt + end.length) >= 0 || start.exec(document.slice(found.index + found[0].length))) {
    throw new Error(`the generated part "${name}" has its markers more than once`);
  }
  return `${document.slice(0, found.index)}${startMarker(name, source)}\n\n${body.trim()}\n\n${document.slice(endAt)}`;
}

/** A table cell: one line, pipes escaped. */
export function cell(text: string | number | null | undefined): string {
  if (text === null || text === undefined || text === '') return '—';
  return String(text).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim();
}

/** Inline code that survives any backticks inside. */
export function code(text: string): string {
  const ticks = '`'.repeat(Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length)) + 1);
  return ticks.length > 1 ? `${ticks} ${text} ${ticks}` : `\`${text}\``;
}

export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Formats Markdown as `prettier --write` would for a file at `path` (the tree is checked with Prettier). */
export async function formatMarkdown(text: string, path: string): Promise<string> {
  const options = (await resolveConfig(path)) ?? {};
  return format(text, { ...options, filepath: path, parser: 'markdown' });
}
