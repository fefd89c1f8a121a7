import type { Server as HttpServer } from 'node:http';
import { createHttpProxy, type HttpProxy } from '@dds/core/http/http-proxy';
import { httpLimitsOf } from '@dds/core/http/proxy-config';
import { type AlpnListener, alpnListener } from '@dds/core/http/server/listeners';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { refuseRestartOnly } from '@dds/core/lifecycle/restart-only';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { ComponentContext, Instance } from '@dds/core/runner';
import { SidecarPolicy } from './client-auth.js';
import type { SidecarConfig } from './config.js';
import { SidecarUpstream } from './http-upstream.js';
import { createRedirectServer } from './redirect-server.js';
import { ServerTls, TLS_RESTART_FIELDS } from './server-tls.js';
import { SidecarMetrics } from './sidecar-metrics.js';
import { UpstreamProbe } from './upstream-probe.js';
import { UpstreamTlsMetrics } from './upstream-tls.js';

const RESTART_FIELDS = [...TLS_RESTART_FIELDS, 'redirectListen', 'mode'] as const;

/**
 * The TLS sidecar's server mode for HTTP: core's proxy skeleton on an ALPN listener (one TLS
 * port, HTTP/2 and HTTP/1.1), client authentication as its policy (client-auth.ts), the TLS
 * side (certificates that follow their files, client certificates: server-tls.ts), an optional
 * 308 redirect listener and an optional upstream readiness probe.
 */
export async function createTlsSidecar(
  ctx: ComponentContext<SidecarConfig>,
): Promise<Instance<SidecarConfig>> {
  const { logger, registry } = ctx;
  const initial = ctx.config;
  const tls: ServerTls = new ServerTls(initial, logger, () => metrics);
  const metrics: SidecarMetrics = new SidecarMetrics(registry, {
    connections: () => tls.connections,
    certificates: () => tls.served,
  });
  const upstreams = new SidecarUpstream(initial, logger, metrics, new UpstreamTlsMetrics(registry));
  const proxy: HttpProxy<SidecarConfig, SidecarPolicy, AlpnListener> = await createHttpProxy<
    SidecarConfig,
    SidecarPolicy,
    AlpnListener
  >({
    ctx,
    component: 'tls-sidecar',
    proto: 'https',
    restartOnly: RESTART_FIELDS,
    onClientError: (kind) => metrics.clientErrors.inc({ kind }),
    limits: (c) => ({ ...httpLimitsOf(c), maxConnections: c.maxConnections }),
    listener: (o) => {
      const l = alpnListener({ ...o, tls: tls.serverOptions(initial) });
      tls.attach(l.server, 'mark'); // counts, identifies and (when required) refuses clients first
      return l;
    },
    policy: (c, build) =>
      new SidecarPolicy(c, build, {
        serverMode: true,
        clientAuth: tls.policy,
        upstreams,
        metrics,
        proxy: () => proxy,
      }),
  });
  const server = proxy.listener.server;

  let redirect: HttpServer | undefined;
  let redirectTracker: ConnectionTracker | undefined;
  const listenAddress = parseAddress(initial.listen) as Address;
  const httpsPort = () =>
    proxy.config.redirectPort ||
    (listenAddress.kind === 'tcp'
      ? ((server.address() as { port: number } | null)?.port ?? listenAddress.port)
      : 443);
  if (initial.redirectListen !== 'off') {
    redirect = createRedirectServer(httpLimitsOf(initial), httpsPort);
    redirectTracker = new ConnectionTracker(redirect);
  }
  const probe = initial.readyUpstream
    ? new UpstreamProbe(upstreams.current, initial.upstreamCheckInterval)
    : undefined;

  return {
    async start() {
      await proxy.listen();
      if (redirect) await listen(redirect, parseAddress(initial.redirectListen) as Address);
      probe?.start();
      const info = tls.certs.main.pair.info;
      logger.info(
        {
          listen: initial.listen,
          upstream: initial.upstream,
          redirect: initial.redirectListen,
          clientAuth: initial.clientAuth,
          subject: info.subject,
          notAfter: info.notAfter,
        },
        'serving HTTPS (HTTP/1.1 and HTTP/2)',
      );
    },

    ready() {
      const cert = tls.ready();
      return cert === true && probe ? probe.status : cert;
    },

    async reload(next, prev) {
      refuseRestartOnly(next, prev, RESTART_FIELDS);
      tls.reload(next, prev); // throws on bad files: reload refused
      const replaced = upstreams.reload(next, prev); // throws on unusable upstream TLS files
      await proxy.reload(next, prev); // the policy now reads the client policy tls.reload made
      if (replaced) probe?.retarget(upstreams.current);
    },

    async drain(deadline) {
      try {
        await Promise.all([proxy.drain(deadline), redirectTracker?.drain(deadline)]);
      } finally {
        probe?.stop();
        tls.close();
        await upstreams.close();
      }
    },
  };
}
