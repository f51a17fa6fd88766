// The import resolver lint's boundary rules use (eslint-module-utils' interface, version 2): it
// resolves what TypeScript resolves here and no general resolver does without a new dependency —
// the alias `@datarun/<lib>` (tsconfig.base.json's `paths`, jest's moduleNameMapper) to
// libs/<lib>/src/index.ts, and a relative `./x.js` to the `./x.ts` beside it (the rules
// scripts/ts-hooks.mjs applies when Node runs the sources). Packages and Node's built-ins are left
// to the node resolver listed after this one in eslint.config.js.
// CommonJS because eslint-module-utils loads resolvers with require().
'use strict';
const { statSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const root = resolve(__dirname, '../..');

exports.interfaceVersion = 2;

/** @returns {{ found: boolean, path?: string | null }} */
exports.resolve = function resolveImport(source, file) {
  const alias = /^@datarun\/([a-z0-9-]+)$/.exec(source);
  let candidates;
  if (alias) candidates = [join(root, 'libs', alias[1], 'src', 'index.ts')];
  else if (source.startsWith('./') || source.startsWith('../')) {
    const target = resolve(dirname(file), source);
    candidates = [target.replace(/\.js$/, '.ts'), target, `${target}.ts`, join(target, 'index.ts')];
  } else return { found: false };
  const found = candidates.find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
  return found ? { found: true, path: found } : { found: false };
};
