import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { isRefusedAddress, networkList } from '../shared/address-ranges.js';

export interface DestinationPolicy {
  /** `webhooks.allowHttp`: plain http receivers. */
  allowHttp: boolean;
  /** `webhooks.allowNetworks`: CIDRs allowed although refused by default. */
  allowNetworks: readonly string[];
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a name resolves to (tests inject one: no test asks a real DNS server). */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolve: Resolve = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** A receiver fleetscan will not send to; `message` says which rule and how to allow it. */
export class DestinationRefusedError extends Error {
  override name = 'DestinationRefusedError';
  readonly code = 'destination-refused';
}

export interface DestinationGuard {
  /**
   * Checks the URL and every address its host resolves to now; returns those addresses, to be
   * the only ones the request may connect to (`pinnedLookup`), or throws DestinationRefusedError.
   */
  resolve(url: string): Promise<ResolvedAddress[]>;
}

/**
 * The webhook SSRF guard: `https` only unless allowed, and no receiver whose host is, or resolves
 * to, a loopback, link-local (metadata), private or otherwise internal address unless
 * `allowNetworks` names it. A name with one refused address among several is refused whole.
 */
export function createDestinationGuard(
  policy: DestinationPolicy,
  resolveName: Resolve = systemResolve,
): DestinationGuard {
  const allowed = networkList(policy.allowNetworks);
  const hint =
    'name its network in webhooks.allowNetworks (CIDR) if this receiver is meant to be internal';
  return {
    async resolve(url) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new DestinationRefusedError(`not a URL: ${url}`);
      }
      if (parsed.protocol !== 'https:' && !(policy.allowHttp && parsed.protocol === 'http:')) {
        throw new DestinationRefusedError(
          `${parsed.protocol.replace(':', '')} receivers are refused: use https (or set webhooks.allowHttp)`,
        );
      }
      // The WHATWG parser already turned `2130706433` and `0x7f.1` into dotted IPv4.
      const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      let addresses: ResolvedAddress[];
      if (isIP(host) !== 0) {
        addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
      } else {
        try {
          addresses = await resolveName(host);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          throw new DestinationRefusedError(
            `${host} does not resolve (${typeof code === 'string' ? code : 'no answer'})`,
          );
        }
        if (addresses.length === 0) throw new DestinationRefusedError(`${host} does not resolve`);
      }
      const bad = addresses.find((a) => isRefusedAddress(a.address, allowed));
      if (bad) {
        throw new DestinationRefusedError(
          `${host} is or resolves to ${bad.address}, an internal address: ${hint}`,
        );
      }
      return addresses;
    },
  };
}

/**
 * A `lookup` for the request that answers with the addresses the guard checked and nothing
 * else: the connection cannot go to whatever a second DNS answer says (DNS rebinding).
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) {
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
      return;
    }
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    const pick = addresses.find((a) => wanted === undefined || a.family === wanted) ?? addresses[0];
    if (!pick) {
      callback(Object.assign(new Error('no checked address'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    callback(null, pick.address, pick.family);
  };
}

/** The URL as shown to read-only tokens: scheme, host and port; no credentials, path or query. */
export function maskedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const rest = parsed.pathname === '/' && parsed.search === '' ? '/' : '/…';
    return `${parsed.protocol}//${parsed.host}${rest}`;
  } catch {
    return '(invalid URL)';
  }
}
