// The `datarun` command line: bin/datarun.mjs (checks Node, builds when needed) imports this from
// dist and calls main(). `npm run token|dlq|audit:verify|audit:archive|migrate|dev-keys` are aliases
// of the same commands; tests call runCli with a context of their own.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DatarunProblem } from '@datarun/client';
import { ConfigError, type DatarunConfig, loadConfig } from '@datarun/config';
import { Problem } from '@datarun/problems';
import { type CliContext, type Command, EXIT, EXIT_CODES_HELP, HelpRequested, UsageError } from './command.js';

/** A command as the list shows it; its module (and the libraries it needs) loads only when it runs. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

// Relative dynamic imports: `datarun token` does not load TypeORM and Kafka, and `datarun --help`
// loads no command at all.
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'token', summary: "print a call token signed by a member's private key", load: async () => (await import('./token.js')).token },
  {
    name: 'audit verify',
    summary: 'verify the audit log: hash chain, Merkle roots, signed checkpoints (database or API)',
    load: async () => (await import('./audit.js')).auditVerify,
  },
  {
    name: 'audit archive',
    summary: 'archive ended months of the audit log with their checkpoints, then drop their partitions',
    load: async () => (await import('./audit.js')).auditArchive,
  },
  { name: 'dlq list', summary: "list the relay's dead letters, newest first", load: async () => (await import('./dlq.js')).dlqList },
  { name: 'dlq replay', summary: 'publish a dead letter again to its original topic', load: async () => (await import('./dlq.js')).dlqReplay },
  {
    name: 'connector parked',
    summary: 'list the requests a connector parked after its retry budget (its own inbox file)',
    load: async () => (await import('./connector.js')).connectorParked,
  },
  {
    name: 'connector resume',
    summary: 'try parked requests of a connector again, with a fresh budget',
    load: async () => (await import('./connector.js')).connectorResume,
  },
  { name: 'migrate', summary: 'run pending database migrations (as the owner role)', load: async () => (await import('./migrate.js')).migrate },
  {
    name: 'members list',
    summary: 'list the registered members with their kinds and key ids (admins)',
    load: async () => (await import('./registry-lists.js')).membersList,
  },
  {
    name: 'sources list',
    summary: 'list the data sources of the resource catalogue (资源目录)',
    load: async () => (await import('./registry-lists.js')).sourcesList,
  },
  {
    name: 'grants list',
    summary: 'list grants: all for an admin, a department its queue, a consumer its own',
    load: async () => (await import('./registry-lists.js')).grantsList,
  },
  {
    name: 'matters list',
    summary: 'list the matters (事项) and whom each notifies on completion',
    load: async () => (await import('./registry-lists.js')).mattersList,
  },
  {
    name: 'dev-keys',
    summary: 'make the development keys and demo members (reusing those already there)',
    load: async () => (await import('./dev-keys.js')).devKeys,
  },
];

const HELP_FLAGS = new Set(['--help', '-h', 'help']);

function commandList(commands: readonly CommandEntry[]): string[] {
  const width = Math.max(...commands.map((c) => c.name.length));
  return commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
}

export const HELP = [
  'usage: datarun <command> [options]',
  '',
  "datarun's command line for operators and integrators. The result goes to stdout (a table, JSON or a token,",
  'and nothing else, so `TOKEN=$(npx datarun token …)` works); errors are one line on stderr.',
  '',
  'commands:',
  ...commandList(COMMANDS),
  '',
  '`datarun <command> --help` shows its options. npm run token|dlq|audit:verify|audit:archive|migrate|dev-keys -- <options>',
  'run the same commands. Configuration comes from the environment (DATABASE_URL, DATABASE_OWNER_URL, KAFKA_BROKERS,',
  "DATARUN_AUDIT_PUBLIC_KEY, the apps' ports, …); in a checkout, what npm start wrote to .local/infra.env fills in the rest.",
  '',
  EXIT_CODES_HELP,
].join('\n');

/** Runs one command line; returns its exit code. Nothing here exits the process. */
export async function runCli(argv: readonly string[], cli: CliContext): Promise<number> {
  const entry = COMMANDS.find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
  if (entry === undefined) return unknownCommand(argv, cli);
  const command = await entry.load();
  try {
    return await command.run(argv.slice(entry.name.split(' ').length), cli);
  } catch (error) {
    if (error instanceof HelpRequested) {
      cli.out(command.help);
      return EXIT.ok;
    }
    if (error instanceof UsageError) {
      cli.err(`${command.name}: ${error.message} (datarun ${command.name} --help)`);
      return EXIT.usage;
    }
    cli.err(`${command.name}: ${failure(error)}`);
    return EXIT.failure;
  }
}

/** `datarun`, `datarun --help`, `datarun dlq --help`, or a command that does not exist. */
function unknownCommand(argv: readonly string[], cli: CliContext): number {
  const [first, second] = argv;
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (first === undefined || HELP_FLAGS.has(first)) {
    (first === undefined ? cli.err : cli.out)(HELP);
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (group.length > 0 && (second === undefined || HELP_FLAGS.has(second))) {
    const text = [
      `usage: datarun ${first} <command> [options]`,
      '',
      'commands:',
      ...commandList(group),
      '',
      `\`datarun ${first} <command> --help\` shows its options.`,
      '',
      EXIT_CODES_HELP,
    ].join('\n');
    (second === undefined ? cli.err : cli.out)(text);
    return second === undefined ? EXIT.usage : EXIT.ok;
  }
  const known = group.length > 0 ? group.map((c) => c.name.split(' ')[1]).join(', ') : COMMANDS.map((c) => c.name).join(', ');
  cli.err(
    `datarun: unknown command "${argv.slice(0, group.length > 0 ? 2 : 1).join(' ')}": ${group.length > 0 ? `${first} has ${known}` : `commands are ${known}`} (datarun --help)`,
  );
  return EXIT.usage;
}

/** One line for stderr: a contract code when there is one, never a stack trace. */
function failure(error: unknown): string {
  if (error instanceof DatarunProblem) return `${error.code}: ${error.detail}${error.requestId ? ` (request ${error.requestId})` : ''}`;
  if (error instanceof Problem) return `${error.code}: ${error.detail}`;
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  const message = (error as { message?: unknown } | undefined)?.message;
  return (typeof message === 'string' ? message : String(error)).split('\n')[0];
}

/** The process's streams, and the configuration of its environment when a command first needs it. */
export function processContext(): CliContext {
  let config: DatarunConfig | undefined;
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    config: () => (config ??= loadConfig(process.env)),
  };
}

/** What the bin and the npm aliases run: the exit code of one command line of this process. */
export function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  return runCli(argv, processContext());
}

/** True when node runs this file itself (`node dist/scripts/cli/main.js …`), not when it is imported. */
function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main();
