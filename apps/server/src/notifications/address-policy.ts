import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** The attempt's error for a target that is internal and not allowed: the same words whatever the port. */
export const REFUSED_INTERNAL = 'refused: the address is internal (not allowed)';

const HOW_TO_ALLOW = 'an operator can allow it with WEBHOOK_ALLOW_HOSTS';

/** Thrown (or handed to a lookup callback) when a webhook's address is internal and not allowed. */
export class InternalAddressError extends Error {
  readonly code = 'ERR_WEBHOOK_INTERNAL_ADDRESS';
  constructor() {
    super(REFUSED_INTERNAL);
  }
}

/**
 * Not reachable from the internet, or not meant for unicast: a webhook aimed here is a way into
 * the console's own network (SSRF), whatever the user meant.
 */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast included
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and the old IPv4-compatible form
  ['100::', 64], // discard
  ['2001::', 32], // Teredo
  ['2001:2::', 48], // benchmarking
  ['2001:10::', 28], // ORCHID
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const) {
  INTERNAL.addSubnet(net, prefix, 'ipv6');
}

/** Expands an IPv6 address to its 8 groups. */
function groups(ip: string): number[] {
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

function v4Of(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * The IPv4 address an IPv6 one carries where the network hands it on to IPv4: mapped
 * (::ffff:a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and 6to4 (2002::/16).
 */
function embeddedV4(ip: string): string | null {
  const g = groups(ip);
  if (g.length !== 8 || g.some((x) => Number.isNaN(x))) return null;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && (g[2] === 1 || g.slice(2, 6).every((x) => x === 0))) return v4Of(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4Of(g[1]!, g[2]!);
  return null;
}

export function isInternalAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return INTERNAL.check(ip, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedV4(ip);
  return INTERNAL.check(ip, 'ipv6') || (v4 !== null && INTERNAL.check(v4, 'ipv4'));
}

/** The host of a URL as net wants it: IPv6 without brackets, no root dot, lower case. */
export function bareHost(hostname: string): string {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return h.replace(/\.$/, '').toLowerCase();
}

/** RFC 6761: these names are the machine itself, whatever a resolver says. */
function isLocalhostName(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost');
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

type AllowEntry = { kind: 'name'; name: string } | { kind: 'net'; address: string; prefix: number; family: 4 | 6 };

/** One WEBHOOK_ALLOW_HOSTS entry read, or the reason it is not one. */
function parseEntry(raw: string): AllowEntry | string {
  const slash = raw.indexOf('/');
  if (slash >= 0) {
    const address = bareHost(raw.slice(0, slash));
    const family = isIP(address);
    const bits = raw.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!family) return `${raw}: a range is an IP address, "/" and a prefix length`;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `${raw}: the prefix length must be 0-${max}`;
    return { kind: 'net', address, prefix: Number(bits), family: family as 4 | 6 };
  }
  let host: string;
  try {
    // The URL parser reads IPv4 in every spelling a webhook URL may use (127.1, 0x7f.1, 2130706433).
    host = bareHost(new URL(`http://${raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw}/`).hostname);
  } catch {
    return `${raw}: not a host name, IP address or range`;
  }
  const family = isIP(host);
  if (family) return { kind: 'net', address: host, prefix: family === 4 ? 32 : 128, family: family as 4 | 6 };
  if (!HOST_NAME.test(host)) return `${raw}: not a host name, IP address or range`;
  return { kind: 'name', name: host };
}

/** WEBHOOK_ALLOW_HOSTS split into entries, each in its normal form; throws naming every bad one. */
export function parseAllowHosts(value: string): string[] {
  const raw = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const problems: string[] = [];
  const entries: string[] = [];
  for (const r of raw) {
    const e = parseEntry(r);
    if (typeof e === 'string') problems.push(e);
    else
      entries.push(
        e.kind === 'name' ? e.name : e.prefix === (e.family === 4 ? 32 : 128) && !r.includes('/') ? e.address : `${e.address}/${e.prefix}`,
      );
  }
  if (problems.length) throw new Error(problems.join('; '));
  return entries;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Which webhook targets are allowed: everything but internal addresses (see INTERNAL), except
 * the host names and ranges the operator listed in WEBHOOK_ALLOW_HOSTS.
 */
export class WebhookAddressPolicy {
  private readonly names = new Set<string>();
  private readonly allowed = new BlockList();

  constructor(allowHosts: readonly string[] = []) {
    for (const raw of allowHosts) {
      const e = parseEntry(raw);
      if (typeof e === 'string') throw new Error(`WEBHOOK_ALLOW_HOSTS: ${e}`);
      if (e.kind === 'name') this.names.add(e.name);
      else this.allowed.addSubnet(e.address, e.prefix, e.family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** A listed name is trusted whatever it resolves to: the operator vouched for it. */
  nameAllowed(host: string): boolean {
    return this.names.has(bareHost(host));
  }

  addressAllowed(ip: string): boolean {
    if (!isInternalAddress(ip)) return true;
    const family = isIP(ip);
    if (family === 4 || family === 6) {
      if (this.allowed.check(ip, family === 4 ? 'ipv4' : 'ipv6')) return true;
      // An IPv4 range also covers the same addresses written as IPv6.
      const v4 = family === 6 ? embeddedV4(ip) : null;
      if (v4 && this.allowed.check(v4, 'ipv4')) return true;
    }
    return false;
  }

  /**
   * Why a subscription to this URL is refused, or null. A name is resolved too; one that does
   * not resolve now is accepted, since delivery checks every address again anyway.
   */
  async subscriptionProblem(url: string): Promise<string | null> {
    const host = bareHost(new URL(url).hostname);
    if (this.names.has(host)) return null;
    if (isIP(host)) return this.addressAllowed(host) ? null : `URL points to an internal address, which is not allowed; ${HOW_TO_ALLOW}`;
    const addresses = (await resolveAll(host)).map((a) => a.address);
    // Whatever this machine's resolver says of them (or if it does not know them), these are loopback.
    if (isLocalhostName(host)) addresses.push('127.0.0.1');
    if (addresses.some((a) => !this.addressAllowed(a))) {
      return `URL's host name resolves to an internal address, which is not allowed; ${HOW_TO_ALLOW}`;
    }
    return null;
  }

  /**
   * Checks a URL whose host is an address: net connects to an IP literal without calling
   * `lookup`, so this is where those are refused.
   */
  checkLiteral(url: URL): void {
    const host = bareHost(url.hostname);
    if (isIP(host) && !this.nameAllowed(host) && !this.addressAllowed(host)) throw new InternalAddressError();
  }

  /**
   * A `lookup` for http.request / net.connect: resolves the name, refuses it if any address is
   * internal and not allowed, and hands net exactly the addresses it checked, so the connection
   * goes to a checked address and a second resolution cannot slip another one in (DNS rebinding).
   */
  readonly lookup = (hostname: string, options: { family?: number | string; all?: boolean }, callback: LookupCallback): void => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
    dnsLookup(hostname, { all: true, family: family === 4 || family === 6 ? family : 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      const host = bareHost(hostname);
      const refused = !addresses.length || addresses.some((a) => !this.addressAllowed(a.address));
      if (refused && !this.names.has(host)) return callback(new InternalAddressError(), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0]!;
      return callback(null, first.address, first.family);
    });
  };
}

/** Every address of a name, or none when it does not resolve (within a few seconds). */
function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([]), 3000);
    timer.unref();
    dnsLookup(host, { all: true }, (err, addresses) => {
      clearTimeout(timer);
      resolve(err ? [] : addresses);
    });
  });
}
