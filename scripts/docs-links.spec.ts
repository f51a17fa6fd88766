// Every link in the project's Markdown resolves inside the repository: README.md, docs/, the libs'
// and schemas' READMEs. A user who clones the repository has nothing else, so no link may leave it
// (no ../shared, no web page unless it is listed below as essential).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve('.');
const SKIP = new Set(['node_modules', 'dist', '.local', '.git']);
/** Web pages a document may link to because the text cannot do without them. None so far. */
const ALLOWED_EXTERNAL = new Set<string>();

function markdownFiles(dir = ROOT): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** The text without fenced code blocks and inline code, where brackets are not links. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`+[^`\n]*`+/g, '');
}

function linksOf(markdown: string): string[] {
  const text = prose(markdown);
  const links: string[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push(m[1]);
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)) links.push(m[1]);
  for (const m of text.matchAll(/<(https?:\/\/[^>\s]+)>/g)) links.push(m[1]);
  for (const m of text.matchAll(/\b(?:href|src)\s*=\s*"([^"]+)"/g)) links.push(m[1]);
  return links;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = m[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Why a link from `file` does not resolve inside the repository, or undefined when it does. */
function brokenLink(file: string, link: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link))
    return ALLOWED_EXTERNAL.has(link) ? undefined : 'leaves the repository (name the standard or library in the text instead)';
  const [pathPart, anchor] = link.split('#', 2) as [string, string | undefined];
  const target = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart));
  const inside = relative(ROOT, target);
  if (inside.startsWith('..') || inside.split(sep).some((part) => SKIP.has(part)))
    return 'points outside the repository (or into a generated or ignored folder)';
  if (!existsSync(target)) return 'no such file';
  if (anchor && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(anchor)) return `no heading #${anchor} in ${relative(ROOT, target)}`;
  return undefined;
}

describe('links in the documentation', () => {
  const files = markdownFiles();

  it('finds the documents to check', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toEqual(expect.arrayContaining(['README.md', join('docs', 'architecture.md'), join('docs', 'api.md'), join('libs', 'audit', 'README.md')]));
  });

  it('resolves every relative link to a file (and heading) in the repository, and leaves it nowhere', () => {
    const broken = files.flatMap((file) =>
      linksOf(readFileSync(file, 'utf8')).flatMap((link) => {
        const why = brokenLink(file, link);
        return why ? [`${relative(ROOT, file)}: ${link}: ${why}`] : [];
      }),
    );
    expect(broken).toEqual([]);
  });

  it('names no document of the team brief outside the repository (README, docs/, the libraries)', () => {
    const ours = files.filter((f) => /^(README\.md|docs\/.*|libs\/[^/]+\/README\.md)$/.test(relative(ROOT, f).split(sep).join('/')));
    expect(ours.length).toBeGreaterThan(10);
    const outside = ours.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return [/\.\.\/shared\b/, /\b(?:DESIGN|DECISIONS|CONVENTIONS|API)\.md\b/]
        .filter((re) => re.test(text))
        .map((re) => `${relative(ROOT, file)}: ${re.source}`);
    });
    expect(outside).toEqual([]);
  });

  it('catches what it is meant to catch', () => {
    const readme = join(ROOT, 'README.md');
    expect(brokenLink(readme, 'docs/api.md')).toBeUndefined();
    expect(brokenLink(readme, '../shared/DESIGN.md')).toMatch(/outside/);
    expect(brokenLink(readme, 'docs/nothing-here.md')).toBe('no such file');
    expect(brokenLink(readme, 'https://example.org/')).toMatch(/leaves the repository/);
    expect(brokenLink(readme, 'docs/api.md#no-such-heading')).toMatch(/no heading/);
    expect(linksOf('a [x](y.md "t") and `[not](a-link.md)` and\n```\n[nor](this.md)\n```\n[ref]: z.md')).toEqual(['y.md', 'z.md']);
    expect([...anchorsOf('# Events: Kafka topics\n## `GET /x`: y\n## Events: Kafka topics')]).toEqual([
      'events-kafka-topics',
      'get-x-y',
      'events-kafka-topics-1',
    ]);
  });
});
