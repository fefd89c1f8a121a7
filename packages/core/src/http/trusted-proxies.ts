import { BlockList, isIP } from 'node:net';

/**
 * The set of peers whose X-Forwarded-For / Forwarded headers are believed. Empty by default:
 * client-supplied forwarding headers are never trusted unless the operator says so.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    this.empty = cidrs.length === 0;
    for (const c of cidrs) {
      const [addr, bits] = c.split('/') as [string, string | undefined];
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, family);
      else this.list.addSubnet(addr, Number(bits), family);
    }
  }

  /** Returns an error message for an invalid CIDR list, for config validation. */
  static validate(cidrs: readonly string[]): string | undefined {
    for (const c of cidrs) {
      const [addr, bits, extra] = c.split('/');
      const fam = isIP(addr ?? '');
      if (!fam || extra !== undefined) return `"${c}" is not an IP address or CIDR`;
      if (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (fam === 4 ? 32 : 128)))
        return `"${c}" has an invalid prefix length`;
    }
    return undefined;
  }

  has(ip: string): boolean {
    if (this.empty || !ip) return false;
    const plain = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
    return this.list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client's address: the peer, or, when the peer is trusted, the right-most address in
   * X-Forwarded-For that is not itself a trusted proxy.
   */
  clientAddress(peer: string, xff: string | string[] | undefined): string {
    if (!this.has(peer) || xff === undefined) return normalizeIp(peer);
    const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim();
      if (!isIP(hop)) return normalizeIp(peer);
      if (!this.has(hop)) return normalizeIp(hop);
    }
    return normalizeIp(hops[0]!.trim());
  }
}

export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
