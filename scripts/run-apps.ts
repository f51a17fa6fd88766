// `npm run start:apps`: runs every datarun process (five apps, and one connector per demo member that
// receives its requests by Kafka) from the build, prefixes their output, says when all are ready,
// and stops them all together on Ctrl-C or when one dies.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { DEMO_MEMBERS } from '@datarun/auth';
import { requireSupportedNode, ConfigError, type DatarunConfig, loadConfig } from '@datarun/config';

requireSupportedNode('start');

interface ProcessSpec {
  readonly label: string;
  readonly app: string;
  readonly port: number;
  readonly env: Record<string, string>;
}

let config: DatarunConfig;
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
  ...(['gateway', 'registry', 'audit', 'relay', 'sandbox'] as const).map((app) => ({ label: app, app, port: config.ports[app], env: {} })),
  // Each connector is its member's own process, configured as a partner would: its member id and
  // utility kind given, the rest (key, inbox, the sandbox as its system) derived from them.
  ...DEMO_MEMBERS.flatMap((m) => (m.receives?.delivery === 'kafka' ? [{ id: m.id, utilityKind: m.receives.utilityKind }] : [])).map((member, i) => ({
    label: member.id,
    app: 'connector',
    port: config.ports.connector + i,
    env: {
      CONNECTOR_MEMBER_ID: member.id,
      CONNECTOR_UTILITY_KIND: member.utilityKind ?? '',
      CONNECTOR_PORT: String(config.ports.connector + i),
      // Another member's settings must not leak in from the environment (empty = unset).
      CONNECTOR_MEMBER_KEY: '',
      CONNECTOR_MEMBER_KEY_ID: '',
      CONNECTOR_SYSTEM_URL: '',
      CONNECTOR_INBOX: '',
    },
  })),
];

const connectors = specs.filter((s) => s.app === 'connector').length;

// A port already taken (often a previous `npm start` still running) would make one app die at
// boot and take the others down with it, its reason lost among their logs: say it first.
const taken = (await Promise.all(specs.map(async (s) => ((await portFree(config.host, s.port)) ? undefined : s)))).filter((s) => s !== undefined);
if (taken.length > 0) {
  for (const s of taken) console.error(`start: port ${config.host}:${s.port} (${s.label}) is in use; see who holds it with: ss -ltnp 'sport = :${s.port}'`);
  console.error(
    `start: stop what holds those ports (a previous npm start?) or move datarun with GATEWAY_PORT, REGISTRY_PORT, AUDIT_PORT, RELAY_PORT, CONNECTOR_PORT (${connectors} ports from it, one per connector), SANDBOX_PORT`,
  );
  process.exit(1);
}

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
// `kill <pid of npm start>` (a supervisor, a script) reaches npm's `sh -c` only, which dies
// without passing it on: notice being orphaned and stop the apps rather than leave them behind.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) {
    console.error(`start: parent process ${parentPid} is gone; stopping`);
    void stopAll(0);
  }
}, 500).unref();

void reportReadiness();

/** Waits for every process's /health/ready, then prints one line with the addresses (or what is not ready after a minute). */
async function reportReadiness(): Promise<void> {
  const base = (s: ProcessSpec) => `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${s.port}`;
  const deadline = Date.now() + 60_000;
  let pending = specs;
  let last = new Map<string, string>();
  while (pending.length > 0 && !stopping) {
    const results = await Promise.all(pending.map(async (s) => [s, await ready(`${base(s)}/health/ready`)] as const));
    last = new Map(results.filter(([, r]) => r !== true).map(([s, r]) => [s.label, r as string]));
    pending = results.filter(([, r]) => r !== true).map(([s]) => s);
    if (pending.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (stopping) return;
  if (pending.length > 0) {
    console.error(`start: not ready after 60 s: ${pending.map((s) => `${s.label} (${last.get(s.label)})`).join(', ')}`);
    return;
  }
  console.log(`start: all ${specs.length} processes ready: ${specs.map((s) => `${s.label} ${base(s)}`).join(', ')}`);
  console.log('start: try a property transfer or the 低保 case (README.md, "Try it"); Ctrl-C stops them all');
}

/** true, or why not: the failed dependencies of a 503, or the connection error. */
async function ready(url: string): Promise<true | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (res.ok) return true;
    const body = (await res.json().catch(() => ({}))) as { failed?: unknown };
    return Array.isArray(body.failed) && body.failed.length > 0 ? `failed: ${body.failed.join(', ')}` : `HTTP ${res.status}`;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  }
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
