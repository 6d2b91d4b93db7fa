import { BlockList, isIP } from 'node:net';

/** Source addresses a sender posts from, as a list of IPv4 and IPv6 CIDRs (a bare address is a /32 or /128). */
export interface SourceAllowList {
  /** False for an address outside every range, a malformed one, or none at all. */
  allows(ip: string | undefined): boolean;
}

/**
 * Parses `47.74.206.0/26`, `8.222.159.116`, `2001:db8::/32`. Throws a TypeError naming the entry
 * on anything else (a configuration error). IPv4-mapped IPv6 addresses (`::ffff:47.74.206.1`)
 * match IPv4 ranges.
 */
export function parseCidrs(entries: readonly string[]): SourceAllowList {
  const list = new BlockList();
  for (const entry of entries) {
    const match = /^([0-9A-Fa-f:.]+)(?:\/(\d{1,3}))?$/.exec(entry.trim());
    const family = match?.[1] ? isIP(match[1]) : 0;
    const max = family === 4 ? 32 : 128;
    const prefix = match?.[2] === undefined ? max : Number(match[2]);
    if (!match?.[1] || family === 0 || prefix > max) {
      throw new TypeError(`"${entry.slice(0, 60)}" is not an IPv4 or IPv6 address or CIDR`);
    }
    list.addSubnet(match[1], prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    allows(ip) {
      if (!ip) return false;
      const family = isIP(ip);
      if (family === 0) return false;
      return list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
