import type { AccessLog } from '@dds/core/access-log/access-log';
import { upstreamOptionsOf } from '@dds/core/http/proxy-config';
import type { ProxyHooks } from '@dds/core/http/reverse-proxy';
import { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { createUpstream, type Upstream } from '@dds/core/http/upstream';
import type { Logger } from '@dds/core/logger';
import type { ClientTlsContext } from '@dds/core/tls/client-context';
import type { SidecarConfig } from './config.js';
import type { SidecarMetrics } from './sidecar-metrics.js';
import {
  CLIENT_TLS_FIELDS,
  type UpstreamTlsMetrics,
  upstreamTlsContext,
  upstreamTlsFailure,
} from './upstream-tls.js';
import { parseUpstream, type UpstreamTarget } from './upstream-url.js';

const UPSTREAM_FIELDS = [
  'upstream',
  'upstreamConnections',
  'connectTimeout',
  'upstreamTimeout',
  'upstreamQueue',
  'upstreamQueueTimeout',
  'tunnelIdleTimeout',
] as const;

const changed = (a: SidecarConfig, b: SidecarConfig, fields: readonly (keyof SidecarConfig)[]): boolean =>
  fields.some((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));

/**
 * The app behind an HTTP mode: an http://, unix:, h2c:// or https:// upstream, and for https the
 * TLS client that goes with it (server mode: --upstream-ca/-cert/-key/-server-name/-allow-san;
 * client mode: the pod's certificate, --ca and --allow-san), whose files are watched. A reload
 * builds a new upstream only when its settings changed; the old one finishes its requests.
 */
export class SidecarUpstream {
  current: Upstream;
  private tls: ClientTlsContext | undefined;
  private config: SidecarConfig;
  private lastWarning = 0;

  constructor(
    config: SidecarConfig,
    private readonly logger: Logger,
    private readonly metrics: SidecarMetrics,
    private readonly tlsMetrics: UpstreamTlsMetrics,
  ) {
    this.config = config;
    this.tls = this.tlsFor(config);
    this.current = this.make(config);
  }

  /**
   * A request failed upstream: TLS failures (untrusted or unexpected server, our certificate
   * refused) are counted by reason and logged, at most one warning a second.
   */
  failed(err: Error & { code?: string }): void {
    const reason = upstreamTlsFailure(err);
    if (
      this.tls !== undefined &&
      reason !== 'refused' &&
      reason !== 'timeout' &&
      reason !== 'other' &&
      reason !== 'reset'
    )
      this.tlsMetrics.failed(reason);
    const now = Date.now();
    if (now - this.lastWarning < 1000) return;
    this.lastWarning = now;
    this.logger.warn(
      { upstream: this.config.upstream, reason, error: err.message, code: err.code },
      'upstream request failed',
    );
  }

  /** The certificate presented to the upstream, for the expiry gauges (client mode). */
  get clientTls(): ClientTlsContext | undefined {
    return this.tls;
  }

  /** Applies a new config; returns the upstream it replaced (to close once drained), if any. */
  reload(next: SidecarConfig, prev: SidecarConfig): Upstream | undefined {
    const tlsChanged = changed(next, prev, CLIENT_TLS_FIELDS);
    if (!tlsChanged && !changed(next, prev, UPSTREAM_FIELDS)) return undefined;
    if (tlsChanged) {
      const fresh = this.tlsFor(next); // throws on unusable files: reload refused
      this.tls?.close();
      this.tls = fresh;
    }
    this.config = next;
    const old = this.current;
    this.current = this.make(next);
    return old;
  }

  /**
   * The TLS files changed: pooled connections still present the old certificate, so new
   * requests go through a new transport and the old one closes once its requests are done.
   */
  private renew(): void {
    const old = this.current;
    this.current = this.make(this.config);
    void old.close();
  }

  async close(): Promise<void> {
    this.tls?.close();
    await this.current.close().catch(() => {});
  }

  private tlsFor(c: SidecarConfig): ClientTlsContext | undefined {
    const t = parseUpstream(c.upstream) as UpstreamTarget;
    return t.kind === 'https'
      ? upstreamTlsContext(c, undefined, this.logger, this.metrics, () => this.renew())
      : undefined;
  }

  private make(c: SidecarConfig): Upstream {
    const url = c.upstream;
    const t = parseUpstream(url) as UpstreamTarget;
    const tls = this.tls;
    return createUpstream(url, {
      ...upstreamOptionsOf(c),
      // asked for at each new connection: a reloaded certificate or CA applies to the next one
      ...(tls ? { tls: () => tls.connectOptions(t.host) } : {}),
    });
  }
}

/** Proxy hooks shared by the HTTP modes: forwarding, metrics per request, access log, drain. */
export function sidecarHooks(
  c: SidecarConfig,
  o: {
    proto: 'http' | 'https';
    metrics: SidecarMetrics;
    accessLog: AccessLog;
    draining: () => boolean;
    upstreams: SidecarUpstream;
  },
): ProxyHooks {
  const { metrics } = o;
  return {
    trusted: new TrustedProxies(c.trustedProxies),
    proto: o.proto,
    forwarded: c.forwarded,
    onDone: (req, status, seconds, failure) => {
      metrics.request(req.httpVersionMajor === 2, status, seconds);
      if (failure === 'client_abort') metrics.clientAborts.inc();
      else if (failure)
        metrics.upstreamErrors.inc({ kind: failure === 'upstream_timeout' ? 'timeout' : 'error' });
    },
    onUpstreamError: (_req, err) => o.upstreams.failed(err),
    draining: o.draining,
    accessLog: o.accessLog,
  };
}
