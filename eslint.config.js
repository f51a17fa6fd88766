// Lint enforces the boundaries of CONVENTIONS.md §1, so a mistake fails CI rather than a review:
// libs are imported by alias, never by relative path; a lib never imports an app; and no
// promise is left floating (an unawaited audit append or publish would fail silently).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.local/**', 'test/bench/children/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/libs/*/src/**', '**/libs/*/src'], message: 'Import a lib by its alias, @datarun/<lib>.' }] },
      ],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/libs/*/src/**', '**/libs/*/src'], message: 'Import a lib by its alias, @datarun/<lib>.' },
            // From libs/<a>/src/…, another lib is ../../<b>/src/… (one more ../ per folder level).
            { regex: '^(\\.\\./){2,}[^./][^/]*/src(/|$)', message: 'Import another lib by its alias, @datarun/<lib>.' },
            { group: ['**/apps/**', '@datarun/*/apps/**'], message: 'A lib never imports an app.' },
          ],
        },
      ],
    },
  },
);
