import type { Socket } from 'node:net';
import { createHttpProxy, type HttpProxy } from '@dds/core/http/http-proxy';
import { httpLimitsOf } from '@dds/core/http/proxy-config';
import { cleartextListener } from '@dds/core/http/server/listeners';
import { refuseRestartOnly } from '@dds/core/lifecycle/restart-only';
import type { ComponentContext, Instance } from '@dds/core/runner';
import { SidecarPolicy } from '../client-auth.js';
import type { SidecarConfig } from '../config.js';
import { SidecarUpstream } from '../http-upstream.js';
import { SidecarMetrics } from '../sidecar-metrics.js';
import { UpstreamProbe } from '../upstream-probe.js';
import { UpstreamTlsMetrics } from '../upstream-tls.js';
import { clientCertificateReady } from './client-readiness.js';

/**
 * Client mode for HTTP (`--mode client --upstream https://`): the app sends plain HTTP/1.1, or
 * HTTP/2 with prior knowledge (gRPC clients on an insecure channel), to a local port (core's
 * cleartext listener); each request goes on over TLS to the upstream, presenting the pod's
 * certificate and checking the server's against --ca and --allow-san, in HTTP/2 when the
 * upstream offers it by ALPN. Core's proxy skeleton does the rest.
 */
export async function createHttpClient(
  ctx: ComponentContext<SidecarConfig>,
): Promise<Instance<SidecarConfig>> {
  const { logger, registry } = ctx;
  const initial = ctx.config;
  const metrics: SidecarMetrics = new SidecarMetrics(registry, {
    connections: () => connections,
    certificates: () => {
      const pair = upstreams.clientTls?.pair;
      return pair ? [{ cert: pair.material.paths.cert, info: pair.info }] : [];
    },
  });
  let connections = 0;
  const upstreams = new SidecarUpstream(initial, logger, metrics, new UpstreamTlsMetrics(registry));
  const proxy: HttpProxy<SidecarConfig, SidecarPolicy> = await createHttpProxy<SidecarConfig, SidecarPolicy>({
    ctx,
    component: 'tls-sidecar',
    restartOnly: ['mode'],
    onClientError: (kind) => metrics.clientErrors.inc({ kind }),
    limits: (c) => ({ ...httpLimitsOf(c), maxConnections: c.maxConnections }),
    listener: (o) => cleartextListener(o),
    policy: (c, build) =>
      new SidecarPolicy(c, build, {
        serverMode: false,
        clientAuth: undefined,
        upstreams,
        metrics,
        proxy: () => proxy,
      }),
  });
  proxy.server.on('connection', (sock: Socket) => {
    connections++;
    sock.once('close', () => connections--);
  });
  const probe = initial.readyUpstream
    ? new UpstreamProbe(upstreams.current, initial.upstreamCheckInterval)
    : undefined;

  return {
    async start() {
      await proxy.listen();
      probe?.start();
      const tls = upstreams.clientTls;
      logger.info(
        {
          listen: initial.listen,
          upstream: initial.upstream,
          certificate: tls?.pair?.info.subject,
          notAfter: tls?.pair?.info.notAfter,
          ca: tls?.paths.ca ?? 'system roots',
          allow: [...initial.allowSan, ...initial.allowCn],
        },
        'serving HTTP (client mode: HTTP/1.1 and h2c in, TLS out)',
      );
    },

    ready() {
      const tls = upstreams.clientTls;
      const cert = tls ? clientCertificateReady(tls) : true;
      return cert === true && probe ? probe.status : cert;
    },

    async reload(next, prev) {
      refuseRestartOnly(next, prev, ['listen', 'mode']);
      const replaced = upstreams.reload(next, prev); // throws on unusable TLS files
      await proxy.reload(next, prev);
      if (replaced) probe?.retarget(upstreams.current);
    },

    async drain(deadline) {
      try {
        await proxy.drain(deadline);
      } finally {
        probe?.stop();
        await upstreams.close();
      }
    },
  };
}
