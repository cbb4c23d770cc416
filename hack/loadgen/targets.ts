import net from 'node:net';

/**
 * The load generator only ever targets addresses of this machine's own planes: loopback, or an
 * address inside a CIDR the caller names (the plane's Service and pod ranges, its node's network
 * namespace). Anything else — a hostname, a public address — is refused before a packet is sent.
 */

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (net.isIPv4(ip) !== true || net.isIPv4(base) !== true || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(base) & mask);
}

/** Undefined when `url` may be targeted, else why not. */
export function refuseTarget(url: URL, allowedCidrs: readonly string[]): string | undefined {
  if (url.protocol !== 'http:') return `only http:// targets are supported, got ${url.protocol}`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '::1' || inCidr(host, '127.0.0.0/8')) return undefined;
  if (!net.isIP(host)) return `target host must be an IP address (loopback or a plane's own range), got "${host}"`;
  if (allowedCidrs.some((c) => inCidr(host, c))) return undefined;
  return `target ${host} is neither loopback nor inside the allowed ranges (${allowedCidrs.join(', ') || 'none given'})`;
}
