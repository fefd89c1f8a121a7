/** How the sidecar talks to what is behind it, from the scheme of --upstream. */
export type UpstreamKind =
  /** HTTP/1.1 over TCP or a unix socket */
  | 'http'
  /** HTTP over TLS, HTTP/2 or HTTP/1.1 by ALPN */
  | 'https'
  /** HTTP/2 with prior knowledge over plain TCP */
  | 'h2c'
  /** raw bytes over plain TCP (server mode) */
  | 'tcp'
  /** raw bytes over TLS (client mode) */
  | 'tls';

export interface UpstreamTarget {
  kind: UpstreamKind;
  host: string;
  port: number;
  /** unix socket path (http only) */
  path?: string;
  /** internal:<component>: that component of the same dds-pod process (http only) */
  internal?: string;
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

/** Parses an --upstream value; returns an error message instead of throwing (for the schema). */
export function parseUpstream(url: string): UpstreamTarget | string {
  if (url.startsWith('internal:')) {
    const name = url.slice(9);
    return /^[a-z][a-z0-9-]*$/.test(name)
      ? { kind: 'http', host: 'localhost', port: 0, internal: name }
      : 'internal: needs a component name (internal:rate-limiter)';
  }
  if (url.startsWith('unix:')) {
    const path = url.slice(5);
    return path.startsWith('/')
      ? { kind: 'http', host: 'localhost', port: 0, path }
      : 'unix: needs an absolute path';
  }
  const m = /^([a-z0-9]+):\/\/(\[[0-9a-fA-F:.]+\]|[^/:\s[\]]+)(?::(\d{1,5}))?\/?$/.exec(url);
  if (!m) return 'expected SCHEME://HOST:PORT';
  const scheme = m[1]!;
  if (!['http', 'https', 'h2c', 'tcp', 'tls'].includes(scheme))
    return `unknown scheme "${scheme}": expected http, https, h2c, tcp or tls`;
  const port = m[3] === undefined ? DEFAULT_PORT[scheme] : Number(m[3]);
  if (port === undefined) return `${scheme}:// needs a port`;
  if (port < 1 || port > 65535) return `port must be 1-65535, got ${port}`;
  return { kind: scheme as UpstreamKind, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/** Upstream kinds each mode accepts. */
export const MODE_UPSTREAMS = {
  server: ['http', 'https', 'h2c', 'tcp'],
  client: ['https', 'tls'],
} as const satisfies Record<string, readonly UpstreamKind[]>;
