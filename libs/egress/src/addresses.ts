import { isIPv4, isIPv6 } from 'node:net';

/**
 * An IP address as a number: IPv4 in 32 bits, IPv6 in 128. An IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, also written `::ffff:7f00:1`) is its IPv4 address, so that no spelling of
 * an address escapes a rule written for the other one.
 */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

/** A CIDR block: every address whose first `prefix` bits are those of `network`. */
export interface AddressBlock {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IPv4 or IPv6 literal (brackets allowed, zone ids refused); undefined when it is none. */
export function parseAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare)) return { family: 4, value: bare.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n) };
  if (!isIPv6(bare) || bare.includes('%')) return undefined;
  const value = ipv6Value(bare);
  // ::ffff:a.b.c.d is the IPv4 host a.b.c.d to the socket layer.
  if (value >> 32n === MAPPED_PREFIX >> 32n) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

function ipv6Value(text: string): bigint {
  // An embedded dotted quad (::ffff:1.2.3.4) is the last two groups.
  const hex = text.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [left, right] = hex.split('::');
  const leftGroups = left ? left.split(':') : [];
  const rightGroups = right ? right.split(':') : [];
  const groups = right === undefined ? leftGroups : [...leftGroups, ...Array<string>(8 - leftGroups.length - rightGroups.length).fill('0'), ...rightGroups];
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Parses `a.b.c.d/n` or `[v6]/n` (or `v6/n`); a bare address is a block of one. Undefined when invalid. */
export function parseBlock(text: string): AddressBlock | undefined {
  const slash = text.lastIndexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const bits = address.family === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  // A mapped IPv6 block names IPv4 addresses: its prefix counts the 96 bits before them.
  const written = Number(prefixText);
  const prefix = address.family === 4 && isIPv6(stripBrackets(text.slice(0, slash < 0 ? undefined : slash))) ? written - 96 : written;
  if (prefix < 0 || prefix > bits) return undefined;
  return { family: address.family, network: address.value & mask(address.family, prefix), prefix };
}

const stripBrackets = (text: string) => (text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);

function mask(family: 4 | 6, prefix: number): bigint {
  const bits = BigInt(family === 4 ? 32 : 128);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

export function inBlock(address: IpAddress, block: AddressBlock): boolean {
  return address.family === block.family && (address.value & mask(block.family, block.prefix)) === block.network;
}

const blocks = (...cidrs: string[]): AddressBlock[] => cidrs.map((c) => parseBlock(c)!);

/**
 * Never a department or a webhook, whatever the allowlist says: "this host" (0.0.0.0 connects to
 * the machine itself on Linux), the unspecified IPv6 address, multicast and broadcast.
 */
export const NEVER_REACHABLE: readonly AddressBlock[] = blocks('0.0.0.0/8', '224.0.0.0/4', '255.255.255.255/32', '::/128', 'ff00::/8');

/**
 * Special-purpose ranges (RFC 6890 and its IANA registries): loopback, private, shared (CGNAT),
 * link-local (cloud metadata services live there), documentation, benchmarking, reserved, unique
 * local IPv6, and the IPv6 ranges that embed an IPv4 address (NAT64, 6to4, Teredo). A name on the
 * allowlist may resolve into them only where an address entry allows it.
 */
export const INTERNAL: readonly AddressBlock[] = blocks(
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '240.0.0.0/4',
  '::1/128',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/32',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
);

export const isNeverReachable = (address: IpAddress): boolean => NEVER_REACHABLE.some((b) => inBlock(address, b));
export const isInternal = (address: IpAddress): boolean => isNeverReachable(address) || INTERNAL.some((b) => inBlock(address, b));
