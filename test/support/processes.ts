// Apps as real processes from the build (dist/), for fault tests that kill them with SIGKILL: a
// crash, not a graceful shutdown. `npm test` builds before the fault project runs.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { type DatarunConfig, KEY_VARIABLES, type KeyName } from '@datarun/config';
import { eventually } from './eventually.js';

/** The environment that makes a process load `config` (what the in-process apps of the test use). */
export function envOf(config: DatarunConfig, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    NODE_OPTIONS: '',
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'warn',
    DATABASE_OWNER_URL: config.database.ownerUrl,
    DATABASE_URL: config.database.url,
    DATABASE_SCHEMA: config.database.schema,
    KAFKA_BROKERS: config.kafka.brokers.join(','),
    KAFKA_TOPIC_PREFIX: config.kafka.topicPrefix,
    // Every key file the in-process apps load (a process's own defaults would point into the repository's .local).
    ...Object.fromEntries(Object.entries(KEY_VARIABLES).map(([name, variable]) => [variable, config.keys[name as KeyName]])),
    GATEWAY_PUBLIC_URL: config.transfers.gatewayPublicUrl,
    RELAY_POLL_MS: String(config.transfers.relayPollMs),
    ...connectorEnvOf(config),
    ...extra,
  };
}

/** A connector's own variables, when `config` is a connector's (empty = unset, so nothing leaks in from the test's environment). */
function connectorEnvOf(config: DatarunConfig): Record<string, string> {
  const member = config.connector.member;
  return {
    CONNECTOR_MEMBER_ID: member?.id ?? '',
    CONNECTOR_UTILITY_KIND: member?.utilityKind ?? '',
    CONNECTOR_MEMBER_KEY: member?.privateKey ?? '',
    CONNECTOR_MEMBER_KEY_ID: member?.keyId ?? '',
    CONNECTOR_SYSTEM_URL: member?.systemUrl ?? '',
    CONNECTOR_INBOX: member?.inbox ?? '',
  };
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

export interface AppProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Output so far, for failure messages. */
  output(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and wait. */
  stop(): Promise<void>;
  metric(name: string): Promise<number>;
}

/** Starts `dist/apps/<app>/src/main.js` on a free port and waits until /health/ready answers 200. */
export async function startAppProcess(app: 'relay' | 'connector' | 'gateway', env: Record<string, string>, portVariable: string): Promise<AppProcess> {
  const main = `dist/apps/${app}/src/main.js`;
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test builds before the fault project)`);
  const port = await freePort();
  const child = spawn(process.execPath, [main], { env: { ...env, [portVariable]: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  // Ready, or gone: a process that exits while starting is not waited for.
  const state = await eventually(
    `${app} to answer 200 on ${url}/health/ready`,
    async () => (child.exitCode !== null ? 'exited' : await fetch(`${url}/health/ready`).then(async (r) => (await r.arrayBuffer(), r.status))),
    { until: (s) => s === 'exited' || s === 200, timeoutMs: 60_000, everyMs: 200 },
  ).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}:\n${output}`);
  });
  if (state === 'exited') throw new Error(`${app} exited with ${child.exitCode} before it was ready:\n${output}`);
  const signal = async (s: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(s);
    await exited;
  };
  return {
    url,
    child,
    output: () => output,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    async metric(name: string) {
      const text = await fetch(`${url}/metrics`).then((r) => r.text());
      const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line ? Number(line.split(' ').pop()) : 0;
    },
  };
}
