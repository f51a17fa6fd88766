// The committed client types must be what the committed OpenAPI documents generate: a route that
// changes without `npm run generate` fails here, before a service hall's build does.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATED_DIR, generateClientTypes, OPENAPI_DIR } from './generate.js';

const FIX = 'run npm run generate';

/** Names what differs between the generated modules and a directory of committed ones, or nothing. */
function drift(generated: Map<string, string>, dir: string): string[] {
  const committed = readdirSync(dir).filter((name) => name.endsWith('.ts'));
  const problems = [
    ...[...generated.keys()].filter((file) => !committed.includes(file)).map((file) => `${join(dir, file)} is missing`),
    ...committed.filter((file) => !generated.has(file)).map((file) => `${join(dir, file)} has no OpenAPI document left`),
  ];
  for (const [file, text] of generated) {
    if (!committed.includes(file)) continue;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    const wanted = text.split('\n');
    const at = wanted.findIndex((line, i) => line !== lines[i]);
    if (at >= 0 || lines.length !== wanted.length) {
      const line = at >= 0 ? at : Math.min(lines.length, wanted.length);
      problems.push(
        `${join(dir, file)} differs from ${OPENAPI_DIR} at line ${line + 1}: ${JSON.stringify(lines[line] ?? '')}, generated ${JSON.stringify(wanted[line] ?? '')}`,
      );
    }
  }
  return problems;
}

describe('generated client types', () => {
  let generated: Map<string, string>;
  beforeAll(async () => {
    generated = await generateClientTypes();
  }, 60_000);

  it(`are up to date with ${OPENAPI_DIR} (else ${FIX})`, () => {
    const problems = drift(generated, GENERATED_DIR);
    if (problems.length > 0) throw new Error(`${problems.join('\n')}\n${FIX}`);
  });

  it('notices a changed route and a document without a module', () => {
    const dir = mkdtempSync(join(tmpdir(), 'datarun-client-types-'));
    const [[first, text], ...others] = [...generated];
    writeFileSync(join(dir, first), text.replace("'/v1/", "'/v2/"));
    for (const [file, other] of others.slice(1)) writeFileSync(join(dir, file), other);
    const problems = drift(generated, dir);
    expect(problems).toEqual([`${join(dir, others[0][0])} is missing`, expect.stringContaining(`${join(dir, first)} differs from ${OPENAPI_DIR} at line`)]);
  });

  it('types a material upload as bytes (a Blob), not as a JSON string', () => {
    expect(generated.get('gateway.ts')).toMatch(/uploadMaterial: \{[\s\S]*?'application\/pdf': Blob;/);
  });
});
