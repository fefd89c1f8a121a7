import { createServer, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { refuseRestartOnly } from '@dds/core/lifecycle/restart-only';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { ComponentContext, Instance } from '@dds/core/runner';
import type { ClientTlsContext } from '@dds/core/tls/client-context';
import type { SidecarConfig } from '../config.js';
import { TlsMetrics } from '../sidecar-metrics.js';
import { TcpConnections } from '../tcp/tcp-connections.js';
import { TcpMetrics } from '../tcp/tcp-metrics.js';
import { UpstreamProbe } from '../upstream-probe.js';
import {
  CLIENT_TLS_FIELDS,
  UpstreamTlsMetrics,
  upstreamTlsContext,
  upstreamTlsFailure,
} from '../upstream-tls.js';
import { parseUpstream, type UpstreamTarget } from '../upstream-url.js';
import { clientCertificateReady } from './client-readiness.js';
import { probeTarget } from './tcp-server.js';

/**
 * Client mode for TCP (`--mode client --upstream tls://`): the app connects in plain text to a
 * local port; each connection is carried over TLS to the upstream, presenting the pod's
 * certificate and verifying the server against --ca and --allow-san. The other half of
 * pod-to-pod mTLS for apps that cannot speak TLS themselves.
 */
export function createTcpClient(ctx: ComponentContext<SidecarConfig>): Instance<SidecarConfig> {
  const { logger, registry } = ctx;
  const initial = ctx.config;
  let open = 0;
  const metrics = new TlsMetrics(registry, {
    connections: () => open,
    certificates: () => {
      const pair = outbound.pair;
      return pair ? [{ cert: pair.material.paths.cert, info: pair.info }] : [];
    },
  });
  const upstreamTls = new UpstreamTlsMetrics(registry);
  const tcp = new TcpMetrics(registry);
  const connections = new TcpConnections(tcp);
  let outbound: ClientTlsContext = upstreamTlsContext(initial, undefined, logger, metrics);
  let config = initial;
  let target = parseUpstream(initial.upstream) as UpstreamTarget;

  const server = createServer(
    { allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
    (local: Socket) => {
      open++;
      local.once('close', () => open--);
      const c = config;
      const t = target;
      // allowHalfOpen: the upstream finishing its side must not end ours (tls.connect passes it on)
      const upstream = tlsConnect({
        host: t.host,
        port: t.port,
        ...outbound.connectOptions(t.host),
        allowHalfOpen: true,
        noDelay: true,
      } as ConnectionOptions);
      connections.run(local, {
        upstream,
        ready: 'secureConnect',
        connectTimeout: c.connectTimeout,
        idleTimeout: c.tcpIdleTimeout,
        plainSide: 'client',
        connected: () => upstreamTls.handshake(upstream.getProtocol()),
        failed: (err, timedOut) => {
          const reason = timedOut ? 'timeout' : upstreamTlsFailure(err);
          upstreamTls.failed(reason);
          if (reason === 'refused' || reason === 'timeout')
            metrics.upstreamErrors.inc({ kind: reason === 'timeout' ? 'timeout' : 'error' });
          logger.warn(
            { upstream: c.upstream, reason, error: err.message, code: err.code },
            'TLS connection to the upstream failed; local connection closed',
          );
          return timedOut
            ? 'upstream_timeout'
            : reason === 'refused'
              ? 'upstream_error'
              : 'upstream_tls_error';
        },
        brokeAfterReady: (err) => {
          // TLS 1.3: the server checks our certificate after the client considers the handshake done
          const reason = upstreamTlsFailure(err);
          if (reason === 'client_cert_refused') {
            upstreamTls.failed(reason);
            logger.warn(
              { upstream: c.upstream, error: err.message, code: err.code },
              'the upstream refused our certificate',
            );
          }
        },
      });
    },
  );
  server.maxConnections = initial.maxConnections;

  const probe = initial.readyUpstream
    ? new UpstreamProbe(probeTarget(initial.upstream, target), initial.upstreamCheckInterval)
    : undefined;

  return {
    async start() {
      await listen(server, parseAddress(initial.listen) as Address);
      probe?.start();
      logger.info(
        {
          listen: initial.listen,
          upstream: initial.upstream,
          certificate: outbound.pair?.info.subject,
          notAfter: outbound.pair?.info.notAfter,
          ca: outbound.paths.ca ?? 'system roots',
          allow: [...initial.allowSan, ...initial.allowCn],
        },
        'serving TCP (client mode)',
      );
    },

    ready() {
      const cert = clientCertificateReady(outbound);
      return cert === true && probe ? probe.status : cert;
    },

    reload(next, prev) {
      refuseRestartOnly(next, prev, ['listen', 'mode']);
      const nextTarget = parseUpstream(next.upstream) as UpstreamTarget;
      if (nextTarget.kind !== 'tls')
        throw new Error('upstream cannot change from tls:// to another kind on reload');
      if (CLIENT_TLS_FIELDS.some((f) => JSON.stringify(next[f]) !== JSON.stringify(prev[f]))) {
        const fresh = upstreamTlsContext(next, undefined, logger, metrics); // throws on bad files
        outbound.close();
        outbound = fresh;
      }
      config = next;
      target = nextTarget;
      server.maxConnections = next.maxConnections;
      if (next.upstream !== prev.upstream) probe?.retarget(probeTarget(next.upstream, nextTarget));
    },

    async drain(deadline) {
      server.close();
      try {
        await connections.drain(deadline, () => open);
      } finally {
        probe?.stop();
        outbound.close();
      }
    },
  };
}
