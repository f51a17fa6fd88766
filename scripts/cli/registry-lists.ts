// `datarun members|sources|grants|matters list`: what the registry API answers, as a table or (--json) as
// the answer itself, called with @datarun/client as the development admin unless --member/--key.
import type { DatarunApis, RegistryApi } from '@datarun/client';
import { requireSupportedNode } from '@datarun/config';
import { appUrl, appUrlHelp, appUrlOption, clientFor, reaching } from './api.js';
import { type CliContext, type Command, EXIT, helpText, parseOptions, UsageError } from './command.js';
import { MEMBER_KEY_HELP, MEMBER_KEY_OPTIONS } from './credentials.js';

type Row = Record<string, unknown>;
type Column = readonly [header: string, cell: (row: Row) => unknown];
type GrantState = NonNullable<NonNullable<RegistryApi.operations['listGrants']['parameters']['query']>['state']>;
const GRANT_STATES: readonly GrantState[] = ['requested', 'approved', 'rejected', 'revoked'];

const COMMON_OPTIONS = { ...MEMBER_KEY_OPTIONS, registry: appUrlOption, json: { type: 'boolean', default: false } } as const;
const FILTER_OPTIONS = { state: { type: 'string' }, source: { type: 'string' }, kind: { type: 'string' } } as const;
type Filter = keyof typeof FILTER_OPTIONS;
const COMMON_HELP: ReadonlyArray<readonly [string, string]> = [
  appUrlHelp('registry'),
  ['--json', 'print the answer as JSON (one line) instead of a table'],
  ...MEMBER_KEY_HELP,
];

/** Prints rows under their headers, each column as wide as its widest cell. */
export function printTable(cli: CliContext, columns: readonly Column[], rows: readonly Row[]): void {
  const cells = [columns.map(([header]) => header), ...rows.map((row) => columns.map(([, cell]) => text(cell(row))))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  for (const line of cells) cli.out(line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '));
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value)) return value.map(text).join(',');
  return String(value).replace(/\s+/g, ' ');
}

function itemsOf(answer: unknown): Row[] {
  return ((answer as { items?: Row[] } | undefined)?.items ?? []) as Row[];
}

function registryList(
  noun: string,
  description: string,
  columns: readonly Column[],
  call: (registry: DatarunApis['registry'], filters: Partial<Record<Filter, string>>) => Promise<unknown>,
  filters: ReadonlyArray<readonly [string, string]> = [],
): Command {
  const name = `${noun} list`;
  return {
    name,
    help: helpText([`datarun ${name}${filters.map(([flag]) => ` [${flag}]`).join('')} [--json] [--registry <url>] [--member <id> --key <file>]`], description, [
      ...filters,
      ...COMMON_HELP,
    ]),
    async run(args, cli) {
      requireSupportedNode(name);
      const { values } = parseOptions(args, { ...COMMON_OPTIONS, ...FILTER_OPTIONS });
      // One option set for every list keeps the parsing typed; a list without filters refuses them as parseArgs would.
      for (const flag of Object.keys(FILTER_OPTIONS) as Filter[])
        if (values[flag] !== undefined && !filters.some(([usage]) => usage.startsWith(`--${flag} `))) throw new UsageError(`Unknown option '--${flag}'`);
      const url = appUrl(cli, 'registry', values.registry);
      const { registry } = clientFor('registry', url, values);
      const answer = await reaching('registry', url, call(registry, { state: values.state, source: values.source, kind: values.kind }));
      if (values.json) cli.out(JSON.stringify(answer));
      else printTable(cli, columns, itemsOf(answer));
      return EXIT.ok;
    },
  };
}

type MemberKind = NonNullable<NonNullable<RegistryApi.operations['listMembers']['parameters']['query']>['kind']>;
const MEMBER_KINDS: readonly MemberKind[] = ['department', 'consumer', 'utility', 'auditor', 'admin'];
type MemberState = NonNullable<NonNullable<RegistryApi.operations['listMembers']['parameters']['query']>['state']>;
const MEMBER_STATES: readonly MemberState[] = ['active', 'suspended'];

export const membersList = registryList(
  'members',
  'Lists the registered members (GET /v1/members, every page): kind, state (active or suspended) and key ids. Admins only.',
  [
    ['id', (m) => m.id],
    ['kind', (m) => m.kind],
    ['state', (m) => m.state],
    ['keys', (m) => ((m.jwks as { keys?: Array<{ kid?: unknown }> } | undefined)?.keys ?? []).map((k) => k.kid)],
    ['name', (m) => m.name],
  ],
  async (registry, { kind, state }) => {
    if (kind !== undefined && !MEMBER_KINDS.includes(kind as MemberKind)) throw new UsageError(`--kind must be one of ${MEMBER_KINDS.join(', ')}`);
    if (state !== undefined && !MEMBER_STATES.includes(state as MemberState)) throw new UsageError(`--state must be one of ${MEMBER_STATES.join(', ')}`);
    const items: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await registry.GET('/v1/members', {
        params: { query: { kind: kind as MemberKind | undefined, state: state as MemberState | undefined, cursor, limit: 200 } },
      });
      items.push(...page.items);
      cursor = page.next;
    } while (cursor !== undefined);
    return { items };
  },
  [
    ['--kind <kind>', `only members of this kind: ${MEMBER_KINDS.join(', ')}`],
    ['--state <state>', `only members in this state: ${MEMBER_STATES.join(', ')}`],
  ],
);

export const sourcesList = registryList(
  'sources',
  'Lists the sources of the catalogue (GET /v1/catalog): owner, mode, current schema version; never data. Any member may call it.',
  [
    ['id', (s) => s.id],
    ['owner', (s) => s.owner],
    ['mode', (s) => s.mode],
    ['version', (s) => s.currentVersion],
    ['title', (s) => s.title],
  ],
  (registry) => registry.GET('/v1/catalog'),
);

export const grantsList = registryList(
  'grants',
  'Lists grants (GET /v1/grants): every grant for an admin, the grants on its sources for a department, its own for a consumer.',
  [
    ['id', (g) => g.id],
    ['state', (g) => g.state],
    ['consumer', (g) => g.consumer],
    ['source', (g) => g.source],
    ['purposes', (g) => g.purposes],
    ['valid until', (g) => g.validUntil],
  ],
  (registry, { state, source }) => {
    if (state !== undefined && !GRANT_STATES.includes(state as GrantState)) throw new UsageError(`--state must be one of ${GRANT_STATES.join(', ')}`);
    return registry.GET('/v1/grants', { params: { query: { state: state as GrantState | undefined, source } } });
  },
  [
    ['--state <state>', `only grants in this state: ${GRANT_STATES.join(', ')}`],
    ['--source <id>', 'only grants on this source'],
  ],
);

export const mattersList = registryList(
  'matters',
  'Lists the matters (GET /v1/matters): the evidence each looks up and whom it notifies when a case completes.',
  [
    ['code', (m) => m.code],
    ['evidence', (m) => m.evidence],
    ['notifies', (m) => (Array.isArray(m.onComplete) ? m.onComplete.map((n: { notify?: unknown }) => n.notify) : [])],
    ['title', (m) => m.title],
  ],
  (registry) => registry.GET('/v1/matters'),
);
