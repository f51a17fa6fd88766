// What every `datarun` command is made of: its help, its options (node:util parseArgs, strict),
// where it writes, and the exit codes scripts rely on.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { DatarunConfig } from '@datarun/config';

/** The exit codes of every command, as each --help states them. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export const EXIT_CODES_HELP = 'exit codes: 0 ok; 1 failure (refused, not found, unreachable, verification failed); 2 usage error';

/** Where a command writes and what it reads: the process's streams in the bin, arrays in tests. */
export interface CliContext {
  /** One line of the result, on stdout: nothing else goes there, so `$(datarun …)` captures just the result. */
  out(line: string): void;
  /** One line on stderr: an error, a warning. */
  err(line: string): void;
  /** The configuration, loaded from the environment when a command first needs it. */
  config(): DatarunConfig;
}

export interface Command {
  /** As typed: `token`, `audit verify`. */
  readonly name: string;
  /** The whole --help text: usage, what it does, options, exit codes. */
  readonly help: string;
  /** Returns the exit code; throws UsageError for bad arguments, anything else for a failure. */
  run(args: readonly string[], cli: CliContext): Promise<number>;
}

/** Bad arguments: exit 2, one line naming the problem and where the help is. */
export class UsageError extends Error {}

/** `--help` or `-h` among the arguments: the runner prints the command's help on stdout, exit 0. */
export class HelpRequested extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;
type WithHelp<O extends Options> = O & { help: { type: 'boolean'; short: 'h' } };
type Parsed<O extends Options, P extends boolean> = ReturnType<typeof parseArgs<{ args: string[]; options: WithHelp<O>; allowPositionals: P; strict: true }>>;

/** parseArgs, strict, with `--help`/`-h` on every command; a mistake becomes a UsageError. */
export function parseOptions<O extends Options, P extends boolean = false>(args: readonly string[], options: O, positionals?: P): Parsed<O, P> {
  let parsed: Parsed<O, P>;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: positionals ?? false,
      strict: true,
    }) as Parsed<O, P>;
  } catch (error) {
    // A mistake next to --help still gets the help: that is what the person is asking for.
    if (args.includes('--help') || args.includes('-h')) throw new HelpRequested();
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  if ((parsed.values as { help?: boolean }).help) throw new HelpRequested();
  return parsed;
}

/** A whole number option (`--limit`, `--from`), or undefined when it was not given. */
export function wholeNumber(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min)
    throw new UsageError(`--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${value}"`);
  return Number(value);
}

/** The text of a help: usage lines, a description, option lines, the exit codes. */
export function helpText(
  usage: readonly string[],
  description: string,
  options: ReadonlyArray<readonly [string, string]> = [],
  exitCodes = EXIT_CODES_HELP,
): string {
  const width = Math.max(0, ...options.map(([flag]) => flag.length));
  return [
    ...usage.map((line, i) => `${i === 0 ? 'usage:' : '      '} ${line}`),
    '',
    description,
    ...(options.length > 0 ? ['', 'options:', ...options.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`)] : []),
    '',
    exitCodes,
  ].join('\n');
}
