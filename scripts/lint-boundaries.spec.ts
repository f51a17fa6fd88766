// The layers of eslint.config.js, proven on small fixtures that cross each boundary (and on one
// that crosses none): lint must fail a crossing, so that it fails CI rather than a review.
// Fixtures are linted as text at the path they pretend to live at, with the project's own
// configuration; only type-aware parsing is off, since a file that is not on disk is in no
// TypeScript program (and no boundary rule needs types).
import { ESLint, type Linter } from 'eslint';

// A plain JavaScript module without types: imported by a path TypeScript does not follow.
const CONFIG_FILE = '../eslint.config.js';
const { default: config, LAYERS } = (await import(CONFIG_FILE)) as { default: Linter.Config[]; LAYERS: Record<string, string[]> };

const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfigFile: true,
  overrideConfig: [
    ...config,
    { files: ['**/*.ts'], languageOptions: { parserOptions: { projectService: false } }, rules: { '@typescript-eslint/no-floating-promises': 'off' } },
  ],
});

/** The messages lint gives `code` as if it were the file at `filePath`. */
async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

const importing = (source: string, name = 'x') => `import { ${name} } from '${source}';\nexport const used = [${name}];\n`;

describe('lint boundaries', () => {
  it.each([
    [
      'a domain lib imports the HTTP platform',
      'libs/cases/src/fixture.ts',
      importing('@datarun/platform', 'PlatformModule'),
      'domain "cases" may not import http "platform"',
    ],
    [
      'a domain lib imports the auth guard',
      'libs/lookups/src/fixture.ts',
      importing('@datarun/auth-guard', 'AuthGuard'),
      'domain "lookups" may not import http "auth-guard"',
    ],
    [
      'a domain lib imports Fastify types',
      'libs/transfers/src/fixture.ts',
      "import type { FastifyRequest } from 'fastify';\nexport type X = FastifyRequest;\n",
      'HTTP and Fastify stay at the edge',
    ],
    ['an infrastructure lib imports Swagger', 'libs/db/src/fixture.ts', importing('@nestjs/swagger', 'ApiTags'), 'HTTP and Fastify stay at the edge'],
    ['a lib imports test code', 'libs/audit/src/fixture.ts', importing('../../../test/support/audit-copy.js', 'contents'), 'A lib never imports test code'],
    [
      'a lib imports a script',
      'libs/registry/src/fixture.ts',
      importing('../../../scripts/openapi.js', 'exportOpenApi'),
      'A lib never imports test code or scripts',
    ],
    [
      'an app imports another app',
      'apps/gateway/src/fixture.ts',
      importing('../../sandbox/src/app.module.js', 'SandboxModule'),
      'app "gateway" may not import app "sandbox"',
    ],
    [
      'infrastructure imports a domain lib',
      'libs/messaging/src/fixture.ts',
      importing('@datarun/audit', 'AuditLog'),
      'infrastructure "messaging" may not import domain "audit"',
    ],
    [
      'a foundation imports infrastructure',
      'libs/config/src/fixture.ts',
      importing('@datarun/metrics', 'Metrics'),
      'foundation "config" may not import infrastructure "metrics"',
    ],
    [
      'a domain lib imports the synthetic city',
      'libs/registry/src/fixture.ts',
      importing('@datarun/population', 'generatePopulation'),
      'domain "registry" may not import synthetic "population"',
    ],
    [
      'an app imports the published client',
      'apps/relay/src/fixture.ts',
      importing('@datarun/client', 'createRegistryClient'),
      'app "relay" may not import client "client"',
    ],
  ])('fails when %s', async (_, filePath, code, expected) => {
    const messages = await lint(filePath, code);
    expect(messages).toEqual([expect.stringContaining(`boundaries/dependencies: ${expected}`)]);
  });

  it('keeps the rules it had: alias-only imports between libs, no lib importing an app', async () => {
    expect(await lint('libs/cases/src/fixture.ts', importing('../../lookups/src/index.js', 'LookupsModule'))).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*Import another lib by its alias/),
    ]);
    expect(await lint('libs/cases/src/fixture.ts', importing('../../../apps/gateway/src/app.module.js', 'GatewayModule'))).toEqual([
      expect.stringMatching(/^no-restricted-imports: .*A lib never imports an app/),
      expect.stringContaining('boundaries/dependencies: domain "cases" may not import app "gateway"'),
    ]);
  });

  it('passes what stays within the layers', async () => {
    const code = [
      "import { AuditLog } from '@datarun/audit';",
      "import { KeyRing } from '@datarun/auth';",
      "import { DATARUN_CONFIG } from '@datarun/config';",
      "import { Metrics } from '@datarun/metrics';",
      "import { Problem } from '@datarun/problems';",
      "import { Injectable } from '@nestjs/common';",
      "import { createHash } from 'node:crypto';",
      "import { CasesService } from './cases.service.js';",
      'export const used = [AuditLog, KeyRing, DATARUN_CONFIG, Metrics, Problem, Injectable, createHash, CasesService];',
      '',
    ].join('\n');
    expect(await lint('libs/cases/src/fixture.ts', code)).toEqual([]);
    expect(await lint('apps/sandbox/src/fixture.ts', importing('@datarun/population', 'generatePopulation'))).toEqual([]);
    expect(await lint('apps/gateway/src/fixture.ts', importing('@datarun/platform', 'PlatformModule'))).toEqual([]);
    expect(await lint('libs/platform/src/fixture.ts', importing('@datarun/metrics', 'Metrics'))).toEqual([]);
    expect(await lint('libs/audit/src/fixture.spec.ts', importing('../../../test/support/audit-copy.js', 'contents'))).toEqual([]);
    expect(await lint('test/e2e/fixture.e2e.ts', importing('../../apps/gateway/src/app.module.js', 'GatewayModule'))).toEqual([]);
  });

  it('gives every lib a layer', async () => {
    const { readdirSync } = await import('node:fs');
    const libs = readdirSync('libs', { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(Object.values(LAYERS).flat().sort()).toEqual(libs.sort());
  });
});
