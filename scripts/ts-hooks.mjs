// Lets Node run the project's TypeScript maintainer scripts straight from the source (no build into
// the shared dist/): `node --experimental-transform-types --import ./scripts/ts-hooks.mjs <file.ts>`.
// Resolves the `@datarun/<lib>` aliases to libs/<lib>/src/index.ts and the `.js` of a relative
// import from a .ts file to the .ts beside it, as tsconfig's paths and nodenext resolution do.
import { existsSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);

registerHooks({
  resolve(specifier, context, nextResolve) {
    const alias = /^@datarun\/([a-z0-9-]+)$/.exec(specifier);
    if (alias) {
      const index = new URL(`libs/${alias[1]}/src/index.ts`, root);
      if (existsSync(fileURLToPath(index))) return nextResolve(index.href, context);
    }
    if (/^\.{1,2}\//.test(specifier) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const source = new URL(`${specifier.slice(0, -'.js'.length)}.ts`, context.parentURL);
      if (existsSync(fileURLToPath(source))) return nextResolve(source.href, context);
    }
    return nextResolve(specifier, context);
  },
});
