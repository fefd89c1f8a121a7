import { upstreamOptionsOf } from '@dds/core/http/proxy-config';
import type { Upstream } from '@dds/core/http/upstream';
import { UpstreamSet } from '@dds/core/http/upstream-set';
import { changedFields } from '@dds/core/lifecycle/restart-only';
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

/**
 * The app behind an HTTP mode: an http://, unix:, h2c:// or https:// upstream, and for https the
 * TLS client that goes with it (server mode: --upstream-ca/-cert/-key/-server-name/-allow-san;
 * client mode: the pod's certificate, --ca and --allow-san), whose files are watched. A reload
 * builds a new upstream only when its URL, options or TLS settings changed (core's UpstreamSet;
 * the TLS context's generation is part of the identity); the old one finishes its requests.
 */
export class SidecarUpstream {
  current: Upstream;
  private tls: ClientTlsContext | undefined;
  /** bumped when the TLS context (or its files) change: pooled connections present the old one */
  private generation = 0;
  private readonly set = new UpstreamSet();
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

  /** Applies a new config; true when requests now go to a new upstream (the old one closes once drained). */
  reload(next: SidecarConfig, prev: SidecarConfig): boolean {
    if (changedFields(next, prev, CLIENT_TLS_FIELDS).length > 0) {
      const fresh = this.tlsFor(next); // throws on unusable files: reload refused
      this.tls?.close();
      this.tls = fresh;
      this.generation++;
    }
    this.config = next;
    const old = this.current;
    this.current = this.make(next);
    return this.current !== old;
  }

  /**
   * The TLS files changed: pooled connections still present the old certificate, so new
   * requests go through a new transport and the old one closes once its requests are done.
   */
  private renew(): void {
    this.generation++;
    this.current = this.make(this.config);
  }

  async close(): Promise<void> {
    this.tls?.close();
    await this.set.close();
  }

  private tlsFor(c: SidecarConfig): ClientTlsContext | undefined {
    const t = parseUpstream(c.upstream) as UpstreamTarget;
    return t.kind === 'https'
      ? upstreamTlsContext(c, undefined, this.logger, this.metrics, () => this.renew())
      : undefined;
  }

  /** The upstream of a config: the running one when nothing it depends on changed. */
  private make(c: SidecarConfig): Upstream {
    const url = c.upstream;
    const t = parseUpstream(url) as UpstreamTarget;
    const tls = this.tls;
    this.set.begin();
    const u = this.set.get(
      url,
      {
        ...upstreamOptionsOf(c),
        // asked for at each new connection: a reloaded certificate or CA applies to the next one
        ...(tls ? { tls: () => tls.connectOptions(t.host) } : {}),
      },
      String(this.generation),
    );
    this.set.commit(); // the upstream it replaced closes once its requests are done
    return u;
  }
}
