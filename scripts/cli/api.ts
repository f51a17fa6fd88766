// The commands that talk HTTP do it with @datarun/client, as any service-hall system would.
import { createDatarunClient, type DatarunAppName, type DatarunEndpoints } from '@datarun/client';
import type { CliContext } from './command.js';
import { memberCredentials } from './credentials.js';

/** `--<app> <url>` of an API command, e.g. `--registry http://10.0.0.5:3001`. */
export const appUrlOption = { type: 'string' } as const;

/** The default ports docs/configuration.md documents, for the help text; the running value comes from the configuration. */
const DOCUMENTED_PORTS: Record<DatarunAppName, number> = { gateway: 3000, registry: 3001, audit: 3002, relay: 3003 };

export const appUrlHelp = (app: DatarunAppName): readonly [string, string] => [
  `--${app} <url>`,
  `the ${app} app; default http://127.0.0.1:$${app.toUpperCase()}_PORT (${DOCUMENTED_PORTS[app]})`,
];

/** The app's URL: the option, else this machine with the configured port. */
export function appUrl(cli: CliContext, app: DatarunAppName, given: string | undefined): string {
  return given ?? `http://127.0.0.1:${cli.config().ports[app]}`;
}

/** A client of one app, as the member the options name (the development admin by default). */
export function clientFor<App extends DatarunAppName>(app: App, url: string, values: { member?: string; key?: string; kid?: string; sub?: string }) {
  return createDatarunClient({ [app]: url } as { [A in App]: string } & DatarunEndpoints, memberCredentials(values));
}

/** Says which app could not be reached rather than fetch's bare "fetch failed". */
export async function reaching<T>(app: DatarunAppName, url: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    // fetch's own failure: a TypeError with the socket error as its cause (compared by name, as
    // fetch may come from another realm than this module, as under Jest).
    const { name, cause } = error as { name?: string; cause?: { code?: string; message?: string } };
    if (name === 'TypeError' && cause) throw new Error(`cannot reach the ${app} at ${url}: ${cause.code ?? cause.message}`);
    throw error;
  }
}
