import { BlockList, isIP } from 'node:net';

/**
 * Addresses a server-side request must not reach unless the operator names them: this host
 * (loopback, "this network"), link-local (cloud metadata at 169.254.169.254), private and
 * carrier-grade NAT ranges, IPv6 unique-local (AWS metadata fd00:ec2::254), multicast and
 * reserved space, and NAT64 (IPv4-mapped IPv6 is checked as the IPv4 address it carries).
 */
const REFUSED: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const refused = new BlockList();
for (const [address, prefix, family] of REFUSED) refused.addSubnet(address, prefix, family);

/** `10.0.0.0/8`, `127.0.0.1/32`, `fd00::/8`: an address and a prefix length that fits it. */
export function parseCidr(text: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return null;
  const address = match[1] ?? '';
  const family = isIP(address);
  const prefix = Number(match[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return null;
  return { address, prefix, family: family as 4 | 6 };
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== null;
}

/** The operator's exceptions (`webhooks.allowNetworks`) as a BlockList to check against. */
export function networkList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed)
      list.addSubnet(parsed.address, parsed.prefix, parsed.family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Whether `address` (an IP literal) is in a range refused by default and not in `allowed`. */
export function isRefusedAddress(address: string, allowed: BlockList): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return refused.check(address, type) && !allowed.check(address, type);
}
