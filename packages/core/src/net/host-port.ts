/** A listen or connect address: TCP host:port, or a unix socket path. */
export type Address = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/**
 * Parses `host:port`, `[::1]:port`, `:port` (all interfaces) or a unix socket path
 * (`/run/x.sock` or `unix:/run/x.sock`). Returns an error message instead of throwing so the
 * config layer can name the field.
 */
export function parseAddress(input: string): Address | string {
  const s = input.trim();
  if (s.startsWith('unix:')) return { kind: 'unix', path: s.slice(5) };
  if (s.startsWith('/') || s.startsWith('./')) return { kind: 'unix', path: s };
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return 'expected [ipv6]:port';
    host = s.slice(1, end);
    portText = s.slice(end + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return 'expected host:port or a unix socket path';
    host = s.slice(0, colon) || '0.0.0.0';
    portText = s.slice(colon + 1);
  }
  if (!/^\d{1,5}$/.test(portText)) return `port must be a number, got "${portText}"`;
  const port = Number(portText);
  if (port > 65535) return `port must be 0-65535, got ${port}`;
  return { kind: 'tcp', host, port };
}

export function formatAddress(a: Address): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Arguments for net.Server#listen / net.connect. */
export function listenOptions(a: Address): { host: string; port: number } | { path: string } {
  return a.kind === 'unix' ? { path: a.path } : { host: a.host, port: a.port };
}
