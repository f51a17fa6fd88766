#!/usr/bin/env node
// `datarun` (`npx datarun …` in a checkout; `npm run token|dlq|audit:verify|…` are aliases): checks
// the Node version, builds dist/ when it is missing or older than the sources, fills in the local
// infrastructure's addresses, then runs the compiled command line (scripts/cli/main.ts).
// Plain JavaScript with no imports of the project, so that it runs before any build and says in
// one line what is wrong; stdout is left to the command's result (the build reports on stderr).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The same floor as MIN_NODE_MAJOR of @datarun/config, which cannot be imported before the build.
const MIN_NODE_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(
    `datarun: datarun needs Node.js ${MIN_NODE_MAJOR} or newer, and this is ${process.versions.node}: run it through npm (npm ci brings Node 24 LTS on Linux x64) or install Node 24 LTS\n`,
  );
  process.exit(1);
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'scripts', 'cli', 'main.js');
// What tsconfig.build.json compiles, and the files that change how it compiles.
const SOURCE_DIRS = ['apps', 'libs', 'scripts', 'test/bench', 'test/fixtures'];
const BUILD_FILES = ['tsconfig.base.json', 'tsconfig.build.json', 'nest-cli.json', 'package-lock.json'];

/** The newest modification time of the sources the build compiles (tests excluded: they are not built). */
function newestSource() {
  let newest = 0;
  for (const file of BUILD_FILES.map((name) => join(root, name))) if (existsSync(file)) newest = Math.max(newest, statSync(file).mtimeMs);
  for (const dir of SOURCE_DIRS.map((name) => join(root, name))) {
    if (!existsSync(dir)) continue;
    for (const item of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!item.isFile() || !item.name.endsWith('.ts') || /\.(spec|e2e)\.ts$/.test(item.name)) continue;
      newest = Math.max(newest, statSync(join(item.parentPath, item.name)).mtimeMs);
    }
  }
  return newest;
}

function fail(message) {
  process.stderr.write(`datarun: ${message}\n`);
  process.exit(1);
}

const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
if (built < newestSource()) {
  const nest = join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
  if (!existsSync(nest)) {
    // An installation without dev dependencies (an image) runs the build it shipped with.
    if (built === 0) fail('dist/ is missing and there is no @nestjs/cli to build it: run npm ci, then npm run build');
  } else {
    process.stderr.write(`datarun: building dist/ (${built === 0 ? 'no build yet' : 'the sources changed'}) …\n`);
    const build = spawnSync(process.execPath, [nest, 'build', 'gateway'], { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
    if (build.status !== 0) fail(`the build failed (npx nest build gateway${build.error ? `: ${build.error.message}` : ''}); its errors are above`);
  }
}

// Like npm start: unless the environment names them, use the database and broker that
// deploy/local/up.sh wrote down, and the running system's database (DATARUN_DB_NAME, default
// datarun) rather than whichever one npm test or npm run bench wrote there last.
const infraFile = join(process.env.DATARUN_LOCAL_DIR ?? join(root, '.local'), 'infra.env');
if (existsSync(infraFile)) {
  const databaseGiven = process.env.DATABASE_OWNER_URL !== undefined || process.env.DATABASE_URL !== undefined;
  for (const line of readFileSync(infraFile, 'utf8').split('\n')) {
    const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (assignment && process.env[assignment[1]] === undefined) process.env[assignment[1]] = assignment[2];
  }
  const owner = process.env.DATABASE_OWNER_URL;
  if (!databaseGiven && owner !== undefined) process.env.DATABASE_OWNER_URL = owner.replace(/\/[^/]*$/, `/${process.env.DATARUN_DB_NAME ?? 'datarun'}`);
}

const { main } = await import(pathToFileURL(entry).href);
process.exit(await main(process.argv.slice(2)));
