// Lint enforces the boundaries of CONVENTIONS.md §1, so a mistake fails CI rather than a review:
// libs are imported by alias, never by relative path; a lib never imports an app; no promise is
// left floating (an unawaited audit append or publish would fail silently); and the layers below
// hold (eslint-plugin-boundaries; docs/architecture.md has the same table).
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/**
 * Each lib's layer. A layer may import its own and the layers below it, never one above:
 * apps → http → domain → infrastructure → foundation. `synthetic` (the synthetic city) serves
 * only apps, scripts and tests; `client` (the published client) only scripts and tests.
 */
export const LAYERS = {
  // The HTTP edge of an app: Fastify bootstrap, Swagger, problem+json filter, health; the auth guard.
  http: ['platform', 'auth-guard'],
  // Business rules and the data they own.
  domain: ['registry', 'access-policy', 'sources', 'lookups', 'cases', 'transfers', 'connector', 'audit'],
  // Connections and mechanisms without business rules: PostgreSQL, Kafka, Prometheus, tokens and keys.
  infrastructure: ['db', 'messaging', 'metrics', 'auth', 'egress'],
  // What everything may use: configuration, error codes, ID numbers, schemas, the request context.
  foundation: ['config', 'problems', 'identity', 'schemas', 'request-context'],
  synthetic: ['population'],
  client: ['client'],
};

const BELOW = {
  app: ['http', 'domain', 'infrastructure', 'foundation', 'synthetic'],
  http: ['http', 'domain', 'infrastructure', 'foundation'],
  domain: ['domain', 'infrastructure', 'foundation'],
  infrastructure: ['infrastructure', 'foundation'],
  foundation: ['foundation'],
  synthetic: ['foundation'],
  client: ['infrastructure', 'foundation'],
};

/** HTTP and Fastify types stay at the edge (apps and the http layer). */
const HTTP_PACKAGES = ['fastify', '@fastify/*', '@nestjs/platform-fastify', '@nestjs/swagger'];

const LIB_ALIAS = { group: ['**/libs/*/src/**', '**/libs/*/src'], message: 'Import a lib by its alias, @datarun/<lib>.' };

/** What every lib may not import: another lib but by its alias, an app. */
const LIB_PATTERNS = [
  LIB_ALIAS,
  // From libs/<a>/src/…, another lib is ../../<b>/src/… (one more ../ per folder level).
  { regex: '^(\\.\\./){2,}[^./][^/]*/src(/|$)', message: 'Import another lib by its alias, @datarun/<lib>.' },
  { group: ['**/apps/**', '@datarun/*/apps/**'], message: 'A lib never imports an app.' },
];

/** Only @datarun/messaging knows which Kafka client there is (docs/architecture.md, "The Kafka client"). */
const KAFKA_CLIENT = { group: ['kafkajs', 'kafkajs/*'], message: "Kafka's client stays inside @datarun/messaging: import its types from @datarun/messaging." };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.local/**', 'test/bench/children/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, boundaries },
    settings: {
      'boundaries/root-path': import.meta.dirname,
      // @datarun/<lib> and `./x.js` → `./x.ts` as TypeScript resolves them; packages by Node's rules.
      'import/resolver': { [`${import.meta.dirname}/scripts/lint/resolver.cjs`]: {}, node: {} },
      'boundaries/elements': [
        { type: 'app', pattern: 'apps/*', capture: ['app'], partialMatch: false },
        ...Object.entries(LAYERS).map(([type, libs]) => ({ type, pattern: `libs/(${libs.join('|')})`, capture: ['lib'], partialMatch: false })),
        { type: 'test', pattern: 'test', partialMatch: false },
        { type: 'script', pattern: 'scripts', partialMatch: false },
      ],
      'boundaries/files': [{ category: 'spec', pattern: '**/*.spec.ts' }],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-imports': ['error', { patterns: [LIB_ALIAS] }],
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          checkAllOrigins: true,
          message:
            '{{from.type}} "{{from.captured.app}}{{from.captured.lib}}" may not import {{to.type}} "{{to.captured.app}}{{to.captured.lib}}" (layers: docs/architecture.md#libraries)',
          // The last policy that matches decides.
          policies: [
            { allow: { to: { module: { origin: ['external', 'core'] } } } },
            ...Object.entries(BELOW).map(([type, below]) => ({ from: { element: { type } }, allow: { to: { element: { types: below } } } })),
            // Tests and maintainer scripts may reach anything; apps import no other app (an app's own files are internal).
            { from: { element: { types: ['test', 'script'] } }, allow: { to: { element: { types: '*' } } } },
            {
              from: { element: { types: ['domain', 'infrastructure', 'foundation', 'synthetic'] } },
              disallow: { to: { module: { origin: 'external', source: HTTP_PACKAGES } } },
              message: 'HTTP and Fastify stay at the edge: apps, @datarun/platform and @datarun/auth-guard (CONVENTIONS.md §1)',
            },
            {
              from: { element: { types: Object.keys(LAYERS) } },
              disallow: { to: { element: { types: ['test', 'script'] } } },
              message: 'A lib never imports test code or scripts: they are not in the build (tsconfig.build.json)',
            },
            // Specs are test code: beside the lib they test, they may use test/support.
            { from: { file: { categories: 'spec' } }, allow: { to: { element: { type: 'test' } } } },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...LIB_PATTERNS, KAFKA_CLIENT],
        },
      ],
    },
  },
  {
    // The Kafka client is @datarun/messaging's own business: the one place that changes with it.
    files: ['apps/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LIB_ALIAS, KAFKA_CLIENT] }] },
  },
  {
    files: ['libs/messaging/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: LIB_PATTERNS }] },
  },
);
