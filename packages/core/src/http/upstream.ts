import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Transport } from './transport.js';
import type { TunnelTimeouts } from './upgrade-proxy.js';
import { http1Transport } from './upstream-pool/http1-transport.js';

export interface UpstreamOptions {
  /** max keep-alive connections to this upstream (HTTP/2: most sessions) */
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
  /**
   * TLS client settings for https:// (certificate, CA, server name, identity check), asked for at
   * each new connection so reloaded files apply; without it, the system roots and the host name
   */
  tls?: () => ConnectionOptions;
}

/** One upstream origin behind a transport: core's HTTP/1.1 pool, or HTTP/2 (h2c, or https by ALPN). */
export interface Upstream {
  /** as configured, e.g. http://127.0.0.1:8080, unix:/run/app.sock, h2c://127.0.0.1:50051 */
  readonly url: string;
  /**
   * How requests reach it. The HTTP/2 client (h2c, https) is loaded on first use: until then this
   * is undefined and `loading` settles once it is set.
   */
  readonly transport: Transport | undefined;
  readonly loading?: Promise<void>;
  /** Host header for requests that came without one */
  readonly hostHeader?: string;
  /** where raw connections (WebSocket upgrades) go */
  readonly connect:
    | { host: string; port: number; tls: boolean; tlsOptions?: (() => ConnectionOptions) | undefined }
    | { path: string };
  /** timeouts of upgraded connections */
  readonly tunnel?: TunnelTimeouts;
  /** `internal:<component>` (dds-pod): the component reached in-process, no socket (no upgrades) */
  readonly internal?: string;
  close(): Promise<void>;
}

export function createUpstream(url: string, opts: UpstreamOptions = {}): Upstream {
  const common = {
    connections: opts.connections ?? 128,
    connectTimeout: opts.connectTimeout ?? 5000,
    headersTimeout: opts.headersTimeout ?? 60_000,
    bodyTimeout: opts.bodyTimeout ?? 300_000,
    keepAliveTimeout: opts.keepAliveTimeout ?? 30_000,
    queueLimit: opts.queueLimit ?? 1024,
    queueTimeout: opts.queueTimeout ?? 10_000,
  };
  const tunnel: TunnelTimeouts = {
    connect: common.connectTimeout,
    response: common.headersTimeout,
    idle: opts.tunnelIdleTimeout ?? 600_000,
  };
  if (url.startsWith('internal:')) {
    // dds-pod's in-process hop (internal-upstream.ts), loaded only where a config names one
    const name = url.slice(9);
    let closed = false;
    const upstream: { -readonly [K in keyof Upstream]: Upstream[K] } = {
      url,
      transport: undefined,
      hostHeader: name,
      connect: { path: '' },
      internal: name,
      close: async () => {
        closed = true;
        await upstream.loading;
        await upstream.transport?.close();
      },
    };
    upstream.loading = import('./internal-upstream.js').then(({ InternalTransport }) => {
      if (!closed) upstream.transport = new InternalTransport(name, common.headersTimeout);
    });
    return upstream;
  }
  if (url.startsWith('unix:')) {
    const path = url.slice(5);
    const transport = http1Transport({ path }, common);
    return {
      url,
      transport,
      hostHeader: 'localhost',
      connect: { path },
      tunnel,
      close: () => transport.close(),
    };
  }
  const u = new URL(url.startsWith('h2c:') ? `http:${url.slice(4)}` : url);
  const tls = u.protocol === 'https:';
  const port = Number(u.port || (tls ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const connect = { host, port, tls, tlsOptions: tls ? opts.tls : undefined };
  if (!tls && !url.startsWith('h2c:')) {
    const transport = http1Transport({ host, port }, common);
    return { url, transport, hostHeader: u.host, connect, tunnel, close: () => transport.close() };
  }
  // HTTP/2 (h2c), or https where ALPN decides: node:http2's client is loaded only for these
  let closed = false;
  const upstream: { -readonly [K in keyof Upstream]: Upstream[K] } = {
    url,
    transport: undefined,
    hostHeader: u.host,
    connect,
    tunnel,
    close: async () => {
      closed = true;
      await upstream.loading;
      await upstream.transport?.close();
    },
  };
  upstream.loading = tls
    ? import('./h2-upstream/alpn-transport.js').then(({ AlpnTransport }) => {
        if (!closed)
          upstream.transport = new AlpnTransport({
            ...common,
            host,
            port,
            tls: opts.tls ?? (() => ({ servername: isIP(host) ? '' : host })),
          });
      })
    : import('./h2-upstream/h2-transport.js').then(({ H2Transport }) => {
        if (!closed) upstream.transport = new H2Transport({ ...common, host, port });
      });
  return upstream;
}
