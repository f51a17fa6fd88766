// `datarun connector parked|resume`: a recipient's operator at the shell of its connector, on the
// connector's own inbox file (CONNECTOR_INBOX, or the default of CONNECTOR_MEMBER_ID), never
// datarun's database or broker. A running connector picks a resumed request up within a second:
// SQLite lets this process write while the connector holds the file (WAL).
import { existsSync } from 'node:fs';
import { requireSupportedNode } from '@datarun/config';
import { ConnectorInbox, type DeferredRequest } from '@datarun/connector';
import { type CliContext, type Command, EXIT, helpText, parseOptions, UsageError } from './command.js';

const INBOX_OPTION: readonly [string, string] = ['--inbox <file>', "the connector's inbox file; default CONNECTOR_INBOX, else the one of CONNECTOR_MEMBER_ID"];

/** The inbox file of the connector this shell runs, which must exist: a new empty one would say nothing. */
function inboxFile(cli: CliContext, given: string | undefined): string {
  const path = given ?? cli.config().connector.member?.inbox;
  if (!path) throw new UsageError('which connector? pass --inbox <file>, or set CONNECTOR_MEMBER_ID (and CONNECTOR_INBOX) as the connector has them');
  if (!existsSync(path)) throw new Error(`no inbox file at ${path}: is this where the connector keeps it (CONNECTOR_INBOX)?`);
  return path;
}

function withInbox<T>(path: string, use: (inbox: ConnectorInbox) => T): T {
  const inbox = new ConnectorInbox(path);
  try {
    return use(inbox);
  } finally {
    inbox.close();
  }
}

function line(d: DeferredRequest): string {
  const state = d.parkedAt ? `parked ${d.parkedAt.toISOString()}` : `retrying, next ${d.nextAttemptAt.toISOString()}`;
  return [d.requestId, state, `tries=${d.attempts}`, `since=${d.firstFailedAt.toISOString()}`, d.message.topic, d.lastError.replace(/\s+/g, ' ')].join('  ');
}

export const connectorParked: Command = {
  name: 'connector parked',
  help: helpText(
    ['datarun connector parked [--inbox <file>] [--all] [--json]'],
    [
      'Lists the requests a connector parked: they failed for the whole retry budget (CONNECTOR_RETRY_BUDGET_SECONDS) for a reason',
      'that may pass (the system down or failing), and wait for `datarun connector resume`. One line each: request id, since when',
      'parked, tries, first failure, topic, last error. --all adds the requests still retrying on their own schedule.',
      "Reads the connector's inbox file only.",
    ].join('\n'),
    [INBOX_OPTION, ['--all', 'also the requests still being retried'], ['--json', 'the list as JSON']],
  ),
  async run(args, cli) {
    requireSupportedNode('connector parked');
    const { values } = parseOptions(args, { inbox: { type: 'string' }, all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } });
    const listed = withInbox(inboxFile(cli, values.inbox), (inbox) => inbox.deferredRequests()).filter((d) => values.all || d.parkedAt !== null);
    if (values.json) {
      cli.out(JSON.stringify(listed.map(({ message, ...d }) => ({ ...d, topic: message.topic, key: message.key?.toString() ?? null }))));
    } else for (const d of listed) cli.out(line(d));
    return EXIT.ok;
  },
};

export const connectorResume: Command = {
  name: 'connector resume',
  help: helpText(
    ['datarun connector resume <request id> [--inbox <file>]', 'datarun connector resume --all [--inbox <file>]'],
    [
      'Tries parked requests again, at once and with a fresh retry budget: the one named, or every parked one with --all.',
      'Prints the ids resumed. A running connector takes them up within a second; a stopped one when it starts.',
    ].join('\n'),
    [INBOX_OPTION, ['--all', 'every parked request']],
  ),
  async run(args, cli) {
    requireSupportedNode('connector resume');
    const { values, positionals } = parseOptions(args, { inbox: { type: 'string' }, all: { type: 'boolean', default: false } }, true);
    if (values.all === positionals.length > 0) throw new UsageError('name one parked request by its id, or pass --all');
    if (positionals.length > 1) throw new UsageError(`one id at a time, got ${positionals.length}`);
    const requestId = positionals[0];
    const resumed = withInbox(inboxFile(cli, values.inbox), (inbox) => inbox.resume(requestId));
    if (requestId !== undefined && resumed.length === 0)
      throw new Error(`${requestId} is not parked in this inbox (datarun connector parked --all lists what it holds)`);
    for (const id of resumed) cli.out(id);
    return EXIT.ok;
  },
};
