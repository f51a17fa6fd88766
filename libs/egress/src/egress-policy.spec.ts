import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@datarun/config';
import { Problem } from '@datarun/problems';
import { isInternal, parseAddress } from './addresses.js';
import { EgressClient } from './egress-client.js';
import { egressPolicyOf } from './egress-of-config.js';
import { EgressPolicy, EgressRefused, type EgressResolver } from './egress-policy.js';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (error) {
    return error instanceof Problem ? error.code : `not a problem: ${String(error)}`;
  }
};

describe('addresses', () => {
  it.each([
    ['127.0.0.1', 4, 0x7f000001n],
    ['::ffff:127.0.0.1', 4, 0x7f000001n],
    ['[::ffff:7f00:1]', 4, 0x7f000001n],
    ['::1', 6, 1n],
    ['fe80::1', 6, (0xfe80n << 112n) | 1n],
  ])('reads %s as one address', (text, family, value) => {
    expect(parseAddress(text)).toEqual({ family, value });
  });

  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.31.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fe80::1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
    '224.0.0.1',
  ])('counts %s as internal', (address) => expect(isInternal(parseAddress(address)!)).toBe(true));

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700::1111'])('counts %s as public', (address) => expect(isInternal(parseAddress(address)!)).toBe(false));
});

describe('EgressPolicy.check (registration and every call)', () => {
  const policy = EgressPolicy.of(['127.0.0.1:3010', 'dept.example.gov.cn:443', '10.20.0.0/16:8443', '[fd00::/8]:*']);

  it.each([
    'http://127.0.0.1:3010/v1/departments/marriage',
    'http://127.0.0.1:3010',
    'https://dept.example.gov.cn/api/',
    'https://DEPT.example.gov.cn:443/api',
    'http://10.20.3.4:8443/x',
    'http://[fd12::1]:9000/x',
    // The same socket address as the entry, spelt IPv4-mapped.
    'http://[::ffff:7f00:1]:3010/v1',
  ])('allows %s', (endpoint) => expect(codeOf(() => policy.check(endpoint))).toBeUndefined());

  it.each([
    ['another port of the host', 'http://127.0.0.1:5432/'],
    ['a fragment swallowing the suffix', 'http://127.0.0.1:3010/v1/departments/marriage#'],
    ['a query swallowing the suffix', 'http://127.0.0.1:3010/v1/departments/marriage?x='],
    ['credentials', 'http://user:pw@127.0.0.1:3010/'],
    ['IPv6 loopback', 'http://[::1]:3010/'],
    ['the unspecified address', 'http://0.0.0.0:3010/'],
    ['another loopback address, IPv4-mapped', 'http://[::ffff:127.0.0.2]:3010/'],
    ['another loopback address', 'http://127.0.0.2:3010/'],
    ['a hex spelling of loopback (not on the list as such)', 'http://0x7f.1:3011/'],
    ['localhost with a trailing dot', 'http://localhost.:3010/'],
    ['localhost', 'http://localhost:3010/'],
    ['a link-local metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['a private address outside the block', 'http://10.21.0.1:8443/'],
    ['a listed name on another port', 'https://dept.example.gov.cn:8443/'],
    ['a sub-domain of a listed name', 'https://evil.dept.example.gov.cn/'],
    ['another scheme', 'ftp://127.0.0.1:3010/'],
    ['not a URL', 'dept'],
    ['a backslash', 'http://127.0.0.1:3010\\@evil/'],
  ])('refuses %s with ENDPOINT_NOT_ALLOWED', (_why, endpoint) => expect(codeOf(() => policy.check(endpoint))).toBe('ENDPOINT_NOT_ALLOWED'));

  it('allows nothing when empty or when none was given', () => {
    expect(codeOf(() => EgressPolicy.denyAll().check('http://127.0.0.1:3010/'))).toBe('ENDPOINT_NOT_ALLOWED');
  });

  it('never allows 0.0.0.0, even inside a listed block', () => {
    expect(codeOf(() => EgressPolicy.of(['0.0.0.0/0:*']).check('http://0.0.0.0:80/'))).toBe('ENDPOINT_NOT_ALLOWED');
  });

  it.each(['dept', 'dept:', ':80', 'dept:0', 'dept:99999', '300.1.1.1:80', '10.0.0.0/33:80', '[fe80::1%eth0]:80', 'dept.:80'])(
    'refuses the entry %s at boot',
    (entry) => {
      expect(() => EgressPolicy.of([entry])).toThrow(/egress allowlist entry/);
    },
  );
});

describe('EgressPolicy.permits (connect time, after DNS)', () => {
  const policy = EgressPolicy.of(['dept.example.gov.cn:443', '10.20.0.0/16:443']);
  const named = policy.check('https://dept.example.gov.cn/');

  it('lets a listed name connect to a public address', () => expect(policy.permits(named, '93.184.216.34')).toBe(true));
  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1', '192.168.0.10', '169.254.169.254', '0.0.0.0', 'fd00::5'])(
    'refuses a listed name that resolves to %s',
    (address) => expect(policy.permits(named, address)).toBe(false),
  );
  it('lets a listed name into a private network only where an address entry allows it', () => {
    expect(policy.permits(named, '10.20.1.1')).toBe(true);
    expect(policy.permits(named, '10.30.1.1')).toBe(false);
  });
});

describe('EgressClient', () => {
  const servers: Server[] = [];
  const received: string[] = [];
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });
  const listener = async (): Promise<number> => {
    const server = createServer((req, res) => {
      received.push(req.url ?? '');
      res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };

  it('refuses, before any socket, a name whose DNS answer is loopback, and the listener gets nothing', async () => {
    const port = await listener();
    const asked: string[] = [];
    const rebinding: EgressResolver = async (hostname) => {
      asked.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const client = new EgressClient(EgressPolicy.of([`dept.example.gov.cn:${port}`], { resolve: rebinding }));
    await expect(client.fetch(`http://dept.example.gov.cn:${port}/v1`, '/records/1')).rejects.toBeInstanceOf(EgressRefused);
    expect(asked).toEqual(['dept.example.gov.cn']);
    expect(received).toEqual([]);
    client.close();
  });

  it('connects to an address entry, and does not follow its redirect', async () => {
    const port = await listener();
    const client = new EgressClient(EgressPolicy.of([`127.0.0.1:${port}`]));
    const response = await client.fetch(`http://127.0.0.1:${port}/v1/`, '/records/1');
    expect(response.status).toBe(302);
    expect(received).toEqual(['/v1/records/1']);
    client.close();
  });

  it('refuses an endpoint no longer on the list with ENDPOINT_NOT_ALLOWED, before any socket', async () => {
    const port = await listener();
    const client = new EgressClient(EgressPolicy.of(['127.0.0.1:1']));
    expect(codeOf(() => client.fetch(`http://127.0.0.1:${port}`, '/x'))).toBe('ENDPOINT_NOT_ALLOWED');
    client.close();
  });
});

describe('egressPolicyOf', () => {
  it('stops the app at boot, in one line naming EGRESS_ALLOWLIST, on an entry that is no address, block or name', () => {
    expect(() => egressPolicyOf(loadConfig({ EGRESS_ALLOWLIST: '300.1.1.1:80' }))).toThrow(/^EGRESS_ALLOWLIST: expected [^\n]+$/);
    expect(egressPolicyOf(loadConfig({})).check('http://127.0.0.1:3010/v1/departments/marriage').port).toBe(3010);
  });
});
