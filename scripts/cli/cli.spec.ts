// The command line without servers: help, argument checks and exit codes, what goes to stdout and
// what to stderr. test/e2e/cli.e2e.ts runs the commands against real apps, database and broker.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatarunConfig, loadConfig } from '@datarun/config';
import { ConnectorInbox } from '@datarun/connector';
import { freePort } from '../../test/support/processes.js';
import { EXIT } from './command.js';
import { COMMANDS, HELP, runCli } from './main.js';

interface Outcome {
  code: number;
  out: string[];
  err: string[];
}

async function run(argv: string[], config: () => DatarunConfig = () => loadConfig({})): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (line) => out.push(line), err: (line) => err.push(line), config });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'datarun-cli-'));
const hallKey = join(dir, 'hall-k1.key.pem');
const hallPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
writeFileSync(hallKey, hallPair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
const publicOnly = join(dir, 'hall.pub.pem');
writeFileSync(publicOnly, hallPair.publicKey.export({ type: 'spki', format: 'pem' }));

describe('datarun --help', () => {
  it('lists every command with its summary on stdout, and the exit codes', async () => {
    const { code, out, err } = await run(['--help']);
    expect({ code, err }).toEqual({ code: EXIT.ok, err: [] });
    expect(out).toEqual([HELP]);
    for (const command of COMMANDS) expect(HELP).toMatch(new RegExp(`\\n  ${command.name} +${command.summary.replace(/[()|.]/g, '\\$&')}\\n`));
    expect(HELP).toContain('exit codes: 0 ok; 1 failure');
    expect(HELP).toMatch(/2 usage error$/);
  });

  it('without a command: the same help on stderr, exit 2, nothing on stdout', async () => {
    expect(await run([])).toEqual({ code: EXIT.usage, out: [], err: [HELP] });
  });

  it.each(COMMANDS.map((c) => [c.name]))('%s --help: usage, options and exit codes on stdout, exit 0', async (name) => {
    expect((await COMMANDS.find((c) => c.name === name)!.load()).name).toBe(name);
    for (const flag of ['--help', '-h']) {
      const { code, out, err } = await run([...name.split(' '), flag]);
      expect({ code, err }).toEqual({ code: EXIT.ok, err: [] });
      expect(out).toHaveLength(1);
      expect(out[0]).toMatch(new RegExp(`^usage: datarun ${name}`));
      expect(out[0]).toMatch(/\nexit codes: 0 .*2 usage error$/);
    }
  });

  it('a group: its commands with --help (exit 0), on stderr without one (exit 2)', async () => {
    const help = await run(['dlq', '--help']);
    expect(help.code).toBe(EXIT.ok);
    expect(help.out[0]).toMatch(/^usage: datarun dlq <command>/);
    expect(help.out[0]).toContain('\n  dlq list    list the relay');
    expect(help.out[0]).toContain('\n  dlq replay  publish a dead letter');
    const bare = await run(['audit']);
    expect(bare).toEqual({ code: EXIT.usage, out: [], err: [expect.stringMatching(/^usage: datarun audit <command>[\s\S]*verify[\s\S]*archive/)] });
  });

  it('--help wins over a mistake next to it', async () => {
    const { code, out } = await run(['token', '--no-such-option', '--help']);
    expect(code).toBe(EXIT.ok);
    expect(out[0]).toMatch(/^usage: datarun token/);
  });
});

describe('usage errors: exit 2, one line on stderr naming the help', () => {
  it.each([
    [['purge'], /^datarun: unknown command "purge": commands are token, audit verify, .* \(datarun --help\)$/],
    [['dlq', 'purge'], /^datarun: unknown command "dlq purge": dlq has list, replay \(datarun --help\)$/],
    [['token', '--member', 'zj.test.hall'], /^token: --member and --key are required \(datarun token --help\)$/],
    [['token', '--member', 'm', '--key', 'k', '--ttl', 'soon'], /^token: --ttl must be a whole number of at least 1, got "soon"/],
    [['token', '--member', 'm', '--key', 'k', '--ttl', '0'], /^token: --ttl must be a whole number of at least 1, got "0"/],
    [['token', '--nope'], /^token: Unknown option '--nope'/],
    [['token', 'extra'], /^token: Unexpected argument 'extra'/],
    [['dlq', 'replay'], /^dlq replay: which dead letter\? pass its id/],
    [['dlq', 'replay', 'a', 'b'], /^dlq replay: one id at a time, got 2/],
    [['dlq', 'list', '--limit', 'ten'], /^dlq list: --limit must be a whole number of at least 1, got "ten"/],
    [['audit', 'verify', '--from', '-3'], /^audit verify: /],
    [['audit', 'verify', '--workers', '2', '--audit', 'http://127.0.0.1:1'], /^audit verify: --workers is for the database, not with --audit/],
    [['audit', 'verify', '--member', 'zj.test.auditor'], /^audit verify: --member goes with --audit <url>/],
    [['audit', 'archive'], /^audit archive: pass --month YYYY-MM or --expired/],
    [['migrate', 'now'], /^migrate: Unexpected argument 'now'/],
    [['dev-keys', 'a', 'b'], /^dev-keys: one directory at most/],
    [['sources', 'list', '--member', 'zj.test.hall'], /^sources list: --member and --key go together/],
    [['matters', 'list', '--state', 'approved'], /^matters list: Unknown option '--state'/],
    [
      ['grants', 'list', '--state', 'maybe', '--member', 'zj.test.hall', '--key', hallKey],
      /^grants list: --state must be one of requested, approved, rejected, revoked/,
    ],
  ])('%j', async (argv, message) => {
    const { code, out, err } = await run(argv);
    expect({ code, out }).toEqual({ code: EXIT.usage, out: [] });
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(message);
  });
});

describe('datarun token', () => {
  it('prints the token and nothing else; its claims are the options', async () => {
    const { code, out, err } = await run(['token', '--member', 'zj.test.hall', '--key', hallKey, '--sub', 'clerk-42', '--ttl', '120']);
    expect({ code, err }).toEqual({ code: EXIT.ok, err: [] });
    expect(out).toHaveLength(1);
    const [header, payload] = out[0]
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'ES256', kid: 'hall-k1' });
    expect(payload).toMatchObject({ iss: 'zj.test.hall', sub: 'clerk-42', aud: 'datarun' });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(120);
  });

  it('warns on stderr, not stdout, about a lifetime datarun refuses', async () => {
    const { code, out, err } = await run(['token', '--member', 'zj.test.hall', '--key', hallKey, '--ttl', '3600']);
    expect(code).toBe(EXIT.ok);
    expect(out).toHaveLength(1);
    expect(err).toEqual(['token: warning: a 3600 s lifetime is longer than the 600 s datarun accepts']);
  });

  it('fails with exit 1 and one line for a key it cannot read or sign with', async () => {
    expect(await run(['token', '--member', 'm', '--key', join(dir, 'missing.key.pem')])).toEqual({
      code: EXIT.failure,
      out: [],
      err: [`token: cannot read ${join(dir, 'missing.key.pem')}: ENOENT`],
    });
    const notPrivate = await run(['token', '--member', 'm', '--key', publicOnly]);
    expect(notPrivate.code).toBe(EXIT.failure);
    expect(notPrivate.err).toEqual([expect.stringMatching(new RegExp(`^token: cannot sign with ${publicOnly}: [^\\n]+$`))]);
  });
});

describe('failures: exit 1, one line on stderr', () => {
  it('names the app it could not reach', async () => {
    const port = await freePort(); // taken from the system and released: nothing listens there
    const { code, out, err } = await run(['sources', 'list', '--registry', `http://127.0.0.1:${port}`, '--member', 'zj.test.hall', '--key', hallKey]);
    expect({ code, out }).toEqual({ code: EXIT.failure, out: [] });
    expect(err).toEqual([`sources list: cannot reach the registry at http://127.0.0.1:${port}: ECONNREFUSED`]);
  });

  it('names a configuration mistake', async () => {
    const { code, err } = await run(['migrate'], () => loadConfig({ DATABASE_POOL_SIZE: 'lots' }));
    expect(code).toBe(EXIT.failure);
    expect(err).toEqual([expect.stringMatching(/^migrate: configuration error: .*DATABASE_POOL_SIZE/)]);
  });

  it('without the development admin key, says which file is missing', async () => {
    const { code, err } = await run(['matters', 'list', '--registry', 'http://127.0.0.1:1', '--key', join(dir, 'none.key.pem'), '--member', 'datarun.admin']);
    expect(code).toBe(EXIT.failure);
    expect(err).toEqual([`matters list: cannot read ${join(dir, 'none.key.pem')}: ENOENT`]);
  });
});

describe('datarun connector parked|resume, on a connector inbox file', () => {
  const REQUEST = '6f1c1c4e-8a43-4e0b-9a55-2b7e0c1a00aa';
  const RETRYING = '6f1c1c4e-8a43-4e0b-9a55-2b7e0c1a00bb';
  const file = join(dir, 'connector', 'zj.test.water.sqlite');
  beforeAll(() => {
    const inbox = new ConnectorInbox(file);
    const message = { topic: 'datarun.utility.water.transfer-requested.v1', key: Buffer.from('UNIT-1'), value: Buffer.from('{}'), headers: {} };
    inbox.defer(REQUEST, 'corr-1', message, "the recipient's system answered 503", new Date());
    inbox.park(REQUEST, "the recipient's system answered 503 still");
    inbox.defer(RETRYING, 'corr-2', message, 'timeout', new Date(Date.now() + 60_000));
    inbox.close();
  });

  it('lists the parked requests of the connector CONNECTOR_MEMBER_ID names, and with --all those retrying too', async () => {
    const config = () => loadConfig({ CONNECTOR_MEMBER_ID: 'zj.test.water', DATARUN_LOCAL_DIR: dir });
    const parked = await run(['connector', 'parked'], config);
    expect(parked.code).toBe(EXIT.ok);
    expect(parked.out).toEqual([expect.stringMatching(new RegExp(`^${REQUEST}  parked \\S+  tries=2  .*  the recipient's system answered 503 still$`))]);
    const all = await run(['connector', 'parked', '--all', '--json', '--inbox', file]);
    expect((JSON.parse(all.out[0]) as Array<{ requestId: string; key: string }>).map((d) => [d.requestId, d.key])).toEqual([
      [REQUEST, 'UNIT-1'],
      [RETRYING, 'UNIT-1'],
    ]);
  });

  it('resumes a parked request by id, refuses one that is not parked, and needs an id or --all', async () => {
    expect(await run(['connector', 'resume', RETRYING, '--inbox', file])).toEqual({
      code: EXIT.failure,
      out: [],
      err: [`connector resume: ${RETRYING} is not parked in this inbox (datarun connector parked --all lists what it holds)`],
    });
    expect((await run(['connector', 'resume', '--inbox', file])).code).toBe(EXIT.usage);
    expect(await run(['connector', 'resume', REQUEST, '--inbox', file])).toEqual({ code: EXIT.ok, out: [REQUEST], err: [] });
    expect((await run(['connector', 'parked', '--inbox', file])).out).toEqual([]);
    const inbox = new ConnectorInbox(file);
    expect(inbox.deferred(REQUEST)).toMatchObject({ parkedAt: null, attempts: 0 });
    inbox.close();
  });

  it('says where it looked when there is no inbox file, and creates none', async () => {
    const missing = join(dir, 'nowhere.sqlite');
    expect(await run(['connector', 'parked', '--inbox', missing])).toEqual({
      code: EXIT.failure,
      out: [],
      err: [`connector parked: no inbox file at ${missing}: is this where the connector keeps it (CONNECTOR_INBOX)?`],
    });
    expect(existsSync(missing)).toBe(false);
  });
});
