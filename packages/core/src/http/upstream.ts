import type { Pool } from 'undici';
import type { TunnelTimeouts } from './upgrade-proxy.js';
import { Http1Pool } from './upstream-pool/pool.js';

export interface UpstreamOptions {
  /** max keep-alive connections to this upstream */
  connections?: number;
  connectTimeout?: number;
  /** time to wait for response headers; exceeded -> 504 */
  headersTimeout?: number;
  /** max idle time between body chunks */
  bodyTimeout?: number;
  keepAliveTimeout?: number;
  /** requests that may wait for a connection (beyond: 503) */
  queueLimit?: number;
  /** how long a request may wait for a connection (then: 503) */
  queueTimeout?: number;
  /** idle time of a spliced tunnel (upgrades) */
  tunnelIdleTimeout?: number;
}

/** One upstream origin behind a keep-alive pool. */
export interface Upstream {
  /** as configured, e.g. http://127.0.0.1:8080 or unix:/run/app.sock */
  readonly url: string;
  /**
   * undici pool: https upstreams go through it. undici (about 9 MB of RSS) is loaded only for an
   * https upstream, when the first one is created: until then this is undefined and `loading`
   * settles once it is set.
   */
  readonly pool: Pool | undefined;
  readonly loading?: Promise<void>;
  /** core's own keep-alive HTTP/1.1 pool for plain-text upstreams (http:, unix:) */
  readonly http1?: Http1Pool;
  /** Host header for requests that came without one */
  readonly hostHeader?: string;
  /** where raw connections (WebSocket upgrades) go */
  readonly connect: { host: string; port: number; tls: boolean } | { path: string };
  /** timeouts of upgraded connections */
  readonly tunnel?: TunnelTimeouts;
  close(): Promise<void>;
}

export function createUpstream(url: string, opts: UpstreamOptions = {}): Upstream {
  const common = {
    connections: opts.connections ?? 128,
    pipelining: 1,
    connectTimeout: opts.connectTimeout ?? 5000,
    headersTimeout: opts.headersTimeout ?? 60_000,
    bodyTimeout: opts.bodyTimeout ?? 300_000,
    keepAliveTimeout: opts.keepAliveTimeout ?? 30_000,
    keepAliveMaxTimeout: 600_000,
  };
  // core's pool only: undici's (https upstreams) has no bounded queue of ours
  const queue = { queueLimit: opts.queueLimit ?? 1024, queueTimeout: opts.queueTimeout ?? 10_000 };
  const tunnel: TunnelTimeouts = {
    connect: common.connectTimeout,
    response: common.headersTimeout,
    idle: opts.tunnelIdleTimeout ?? 600_000,
  };
  if (url.startsWith('unix:')) {
    const path = url.slice(5);
    const http1 = new Http1Pool({ path }, { ...common, ...queue });
    return {
      url,
      pool: undefined,
      http1,
      hostHeader: 'localhost',
      connect: { path },
      tunnel,
      close: () => http1.close(),
    };
  }
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const port = Number(u.port || (tls ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!tls) {
    const http1 = new Http1Pool({ host, port }, { ...common, ...queue });
    return {
      url,
      pool: undefined,
      http1,
      hostHeader: u.host,
      connect: { host, port, tls },
      tunnel,
      close: () => http1.close(),
    };
  }
  let closed = false;
  const upstream: { -readonly [K in keyof Upstream]: Upstream[K] } = {
    url,
    pool: undefined,
    hostHeader: u.host,
    connect: { host, port, tls },
    tunnel,
    close: async () => {
      closed = true;
      await upstream.loading;
      await upstream.pool?.close();
    },
  };
  upstream.loading = import('undici').then(({ default: undici }) => {
    if (!closed) upstream.pool = new undici.Pool(u.origin, common);
  });
  return upstream;
}
