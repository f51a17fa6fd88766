/**
 * The rate-limit key of a remote address: an IPv4 address (also IPv4-mapped IPv6) as it is, an
 * IPv6 address by its /64, the smallest block a single host is usually given — a stranger with one
 * /64 holds 2^64 addresses and would otherwise get as many buckets.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown';
  if (!address.includes(':')) return address; // IPv4: every request of the benchmark, kept cheap
  const plain = address.split('%', 1)[0].toLowerCase(); // a zone id (fe80::1%eth0) names no other host
  if (plain.startsWith('::ffff:') && plain.includes('.')) return plain.slice(7);
  const [head, tail] = plain.split('::', 2);
  const before = head ? head.split(':') : [];
  const after = tail ? tail.split(':') : [];
  const groups = tail === undefined ? before : [...before, ...Array<string>(Math.max(0, 8 - before.length - after.length)).fill('0'), ...after];
  const prefix = groups.slice(0, 4).map((group) => Number.parseInt(group, 16));
  if (prefix.length < 4 || prefix.some((n) => !Number.isInteger(n) || n < 0 || n > 0xffff)) return plain;
  return `${prefix.map((n) => n.toString(16)).join(':')}::/64`;
}
