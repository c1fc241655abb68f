import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * SSRF guard for event endpoints: only http(s), and no address inside the machine or its
 * networks (loopback, private, link-local, CGNAT, multicast, reserved), checked on the URL when
 * an endpoint is saved and again on every address a delivery connects to (a name may resolve
 * elsewhere later: DNS rebinding).
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** Whether an IP address is internal (IPv4-mapped IPv6 addresses count as their IPv4). */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return blocked.check(address, 'ipv4');
}

export type UrlVerdict = { ok: true } | { ok: false; reason: string };

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/** Checks an endpoint URL; with `allowPrivate` only the scheme is checked. */
export async function checkEndpointUrl(
  value: string,
  options: { allowPrivate: boolean; resolve?: (host: string) => Promise<string[]> },
): Promise<UrlVerdict> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'only http and https URLs are allowed' };
  }
  if (url.username || url.password) {
    return { ok: false, reason: 'credentials in the URL are not allowed' };
  }
  if (options.allowPrivate) return { ok: true };
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (options.resolve ?? resolveAll)(host);
    } catch {
      return { ok: false, reason: `the host ${host} does not resolve` };
    }
  }
  if (addresses.length === 0 || addresses.some(isInternalAddress)) {
    return { ok: false, reason: 'the URL points at an internal address' };
  }
  return { ok: true };
}

function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, found: LookupAddress[]) => {
      if (error) reject(error);
      else resolve(found.map((entry) => entry.address));
    });
  });
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for outgoing sockets that refuses internal addresses; IP literals do not go through
 * a lookup, so `isBlockedLiteral` checks those before connecting.
 */
export function guardedLookup(
  hostname: string,
  options: { all?: boolean; family?: number } | number,
  callback: LookupCallback,
): void {
  const opts = typeof options === 'number' ? { family: options } : options;
  dnsLookup(hostname, { ...opts, all: true }, (error, found: LookupAddress[]) => {
    if (error) return callback(error, opts.all ? [] : '', undefined);
    const bad = found.find((entry) => isInternalAddress(entry.address));
    if (bad || found.length === 0) {
      const refused = Object.assign(new Error(`${hostname} resolves to an internal address`), {
        code: 'EVENTS_ADDRESS_BLOCKED',
      });
      return callback(refused, opts.all ? [] : '', undefined);
    }
    if (opts.all) return callback(null, found);
    const first = found[0] as LookupAddress;
    callback(null, first.address, first.family);
  });
}

/** Whether the URL's host is an internal IP literal. */
export function isBlockedLiteral(url: URL): boolean {
  const host = hostOf(url);
  return isIP(host) !== 0 && isInternalAddress(host);
}
