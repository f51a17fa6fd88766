// `npm run start:apps`: runs every datarun process (eight: six apps, one bridge per utility kind)
// from the build, prefixes their output, and stops them all together on Ctrl-C or when one dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ConfigError, loadConfig } from '@datarun/config';

const UTILITY_KINDS = ['water', 'electricity', 'gas'] as const;

interface ProcessSpec {
  readonly label: string;
  readonly app: string;
  readonly env: Record<string, string>;
}

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`start: configuration error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const specs: ProcessSpec[] = [
  ...(['gateway', 'registry', 'audit', 'relay', 'sandbox'] as const).map((app) => ({ label: app, app, env: {} })),
  ...UTILITY_KINDS.map((kind, i) => ({
    label: `bridge-${kind}`,
    app: 'utility-bridge',
    env: { UTILITY_KIND: kind, UTILITY_BRIDGE_PORT: String(config.ports['utility-bridge'] + i) },
  })),
];

const children = new Map<string, ChildProcess>();
let stopping = false;
const width = Math.max(...specs.map((s) => s.label.length));

for (const spec of specs) {
  const child = spawn(process.execPath, [`dist/apps/${spec.app}/src/main.js`], {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(spec.label, child);
  const prefix = `${spec.label.padEnd(width)} | `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) => process.stdout.write(prefix + line + '\n'));
  }
  child.on('exit', (code, signal) => {
    children.delete(spec.label);
    if (!stopping) {
      console.error(`start: ${spec.label} exited (${signal ?? `code ${code}`}); stopping the others`);
      void stopAll(1);
    } else if (children.size === 0) {
      process.exit(exitCode);
    }
  });
}

let exitCode = 0;
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  if (children.size === 0) process.exit(code);
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code);
  }, 10_000).unref();
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
