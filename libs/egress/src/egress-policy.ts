import { lookup as dnsLookup } from 'node:dns/promises';
import { Problem } from '@datarun/problems';
import { type AddressBlock, inBlock, isInternal, isNeverReachable, type IpAddress, parseAddress, parseBlock } from './addresses.js';

/** One allowlist entry: a host name or an address block, and a port (`*`: any). */
export type EgressEntry =
  | { readonly kind: 'name'; readonly name: string; readonly port: number | '*' }
  | { readonly kind: 'block'; readonly block: AddressBlock; readonly port: number | '*' };

/** An endpoint that passed the allowlist: where to connect, before DNS. */
export interface EgressTarget {
  /** The endpoint as registered, without trailing slashes (paths are appended to it). */
  readonly base: string;
  readonly protocol: 'http:' | 'https:';
  /** The URL's host name: a DNS name, or an address literal (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** Set when the host is an address literal: no DNS, the allowlist decided already. */
  readonly address?: IpAddress;
}

/** What DNS answered for a name: every address, as `dns.lookup(name, {all: true})` gives them. */
export type EgressResolver = (hostname: string) => Promise<ReadonlyArray<{ readonly address: string; readonly family: number }>>;

/**
 * A connection refused after DNS: the name is allowed, but what it resolves to is not. Its message
 * names the host and port the caller registered, never the addresses DNS gave (they may describe
 * the inside of the network).
 */
export class EgressRefused extends Error {
  constructor(
    readonly hostname: string,
    readonly port: number,
  ) {
    super(`${hostname}:${port} resolves to no address the egress allowlist allows`);
    this.name = 'EgressRefused';
  }
}

const NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const DEFAULT_PORT = { 'http:': 80, 'https:': 443 } as const;

const systemResolver: EgressResolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Where datarun may call out to (a federated source's endpoint, a webhook): the configured
 * allowlist (EGRESS_ALLOWLIST), checked when an endpoint is registered (`check`, 400
 * ENDPOINT_NOT_ALLOWED) and again on every call, then once more when the socket connects, on the
 * addresses DNS answered (`permits`): a name on the allowlist that comes to resolve to a loopback,
 * private or link-local address is refused unless an address entry allows that address. Address
 * literals must match an address entry; 0.0.0.0, `::`, multicast and broadcast never do.
 */
export class EgressPolicy {
  private constructor(
    private readonly entries: readonly EgressEntry[],
    /** The resolver the connect-time check asks (tests give theirs to control what a name resolves to). */
    readonly resolve: EgressResolver,
  ) {}

  /** Entries as EGRESS_ALLOWLIST writes them: `host:port`, `10.1.0.0/16:443`, `[fd00::/8]:8443`, `port` may be `*`. */
  static of(entries: readonly string[], options: { resolve?: EgressResolver } = {}): EgressPolicy {
    return new EgressPolicy(entries.map(parseEntry), options.resolve ?? systemResolver);
  }

  /** Allows nothing: what a caller gets that was given no policy. */
  static denyAll(): EgressPolicy {
    return EgressPolicy.of([]);
  }

  /**
   * The endpoint, checked: an http(s) URL without credentials, query or fragment (a `?` or `#`
   * would swallow the path datarun appends), whose host and port the allowlist names.
   * Throws 400 ENDPOINT_NOT_ALLOWED otherwise.
   */
  check(endpoint: string): EgressTarget {
    const refuse = (why: string) => new Problem('ENDPOINT_NOT_ALLOWED', `the endpoint ${why}`);
    // Checked on the text, not the parsed URL: `http://h/#` parses to an empty hash.
    if (/[?#\\\s\u0000-\u001f\u007f]/.test(endpoint)) throw refuse('may not have a query, a fragment, backslashes or spaces');
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw refuse('is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse('must be an http or https URL');
    if (url.username || url.password) throw refuse('may not carry credentials');
    const port = url.port ? Number(url.port) : DEFAULT_PORT[url.protocol];
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const address = parseAddress(hostname);
    const allowed = address
      ? !isNeverReachable(address) && this.entries.some((e) => e.kind === 'block' && portMatches(e.port, port) && inBlock(address, e.block))
      : this.entries.some((e) => e.kind === 'name' && portMatches(e.port, port) && e.name === hostname);
    if (!allowed) throw refuse(`${url.host} is not on the egress allowlist`);
    return { base: endpoint.replace(/\/+$/, ''), protocol: url.protocol, hostname, port, ...(address ? { address } : {}) };
  }

  /**
   * Whether a connection to `address` (what DNS answered for the target's name) may be made:
   * an address entry allows it, or it is a public address of a name the allowlist names.
   */
  permits(target: EgressTarget, address: string): boolean {
    const ip = parseAddress(address);
    if (!ip || isNeverReachable(ip)) return false;
    if (this.entries.some((e) => e.kind === 'block' && portMatches(e.port, target.port) && inBlock(ip, e.block))) return true;
    return target.address === undefined && !isInternal(ip);
  }
}

const portMatches = (allowed: number | '*', port: number) => allowed === '*' || allowed === port;

function parseEntry(text: string): EgressEntry {
  const entry = text.trim().toLowerCase();
  const colon = entry.lastIndexOf(':');
  const host = entry.slice(0, colon);
  const portText = entry.slice(colon + 1);
  const port = portText === '*' ? '*' : /^\d{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65535 ? Number(portText) : undefined;
  if (colon < 1 || port === undefined) throw new Error(`egress allowlist entry "${text}": expected host:port (port a number or *)`);
  const bracketed = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : undefined;
  const block = parseBlock(bracketed ?? host);
  if (block) return { kind: 'block', block, port };
  if (bracketed === undefined && NAME.test(host) && !/^[\d.]+$/.test(host)) return { kind: 'name', name: host, port };
  throw new Error(`egress allowlist entry "${text}": expected a host name, an address or a CIDR block before the port`);
}
