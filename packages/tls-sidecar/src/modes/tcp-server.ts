import { connect } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { refuseRestartOnly } from '@dds/core/lifecycle/restart-only';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { ComponentContext, Instance } from '@dds/core/runner';
import type { SidecarConfig } from '../config.js';
import { identityOf, ServerTls, TLS_RESTART_FIELDS } from '../server-tls.js';
import { TlsMetrics } from '../sidecar-metrics.js';
import { type ProxyHeaderInfo, proxyV1, proxyV2 } from '../tcp/proxy-protocol.js';
import { TcpConnections } from '../tcp/tcp-connections.js';
import { TcpMetrics } from '../tcp/tcp-metrics.js';
import { UpstreamProbe } from '../upstream-probe.js';
import { parseUpstream, type UpstreamTarget } from '../upstream-url.js';

/**
 * TCP mode (`--upstream tcp://`): TLS (or mTLS) is terminated and the bytes are spliced to the
 * app, half-close included; with --proxy-protocol the app first gets a PROXY header naming the
 * client and, in v2, what the handshake proved (TLS version, cipher, SNI, client CN and URI).
 */
export function createTcpServer(ctx: ComponentContext<SidecarConfig>): Instance<SidecarConfig> {
  const { logger, registry } = ctx;
  const initial = ctx.config;
  const tls: ServerTls = new ServerTls(initial, logger, () => metrics);
  const metrics = new TlsMetrics(registry, {
    connections: () => tls.connections,
    certificates: () => tls.served,
  });
  const tcp = new TcpMetrics(registry);
  const connections = new TcpConnections(tcp);
  let config = initial;
  let target = parseUpstream(initial.upstream) as UpstreamTarget;

  const server = createServer({ ...tls.serverOptions(initial), allowHalfOpen: true, noDelay: true });
  server.maxConnections = initial.maxConnections;
  tls.attach(server, 'close', (sock) => {
    const c = config;
    const t = target;
    const upstream = connect({ host: t.host, port: t.port, allowHalfOpen: true, noDelay: true });
    connections.run(sock, {
      upstream,
      ready: 'connect',
      connectTimeout: c.connectTimeout,
      idleTimeout: c.tcpIdleTimeout,
      plainSide: 'upstream',
      header:
        c.proxyProtocol === 'off'
          ? undefined
          : () => (c.proxyProtocol === 'v1' ? proxyV1 : proxyV2)(headerInfo(sock)),
      failed: (err, timedOut) => {
        metrics.upstreamErrors.inc({ kind: timedOut ? 'timeout' : 'error' });
        logger.warn(
          { upstream: c.upstream, peer: sock.remoteAddress, error: err.message, code: err.code },
          'upstream connection failed; client connection closed',
        );
        return timedOut ? 'upstream_timeout' : 'upstream_error';
      },
    });
  });

  const probe = initial.readyUpstream
    ? new UpstreamProbe(probeTarget(initial.upstream, target), initial.upstreamCheckInterval)
    : undefined;
  const listenAddress = parseAddress(initial.listen) as Address;

  return {
    async start() {
      await listen(server, listenAddress);
      probe?.start();
      const info = tls.certs.main.pair.info;
      logger.info(
        {
          listen: initial.listen,
          upstream: initial.upstream,
          clientAuth: initial.clientAuth,
          proxyProtocol: initial.proxyProtocol,
          subject: info.subject,
          notAfter: info.notAfter,
        },
        'serving TLS (TCP mode)',
      );
    },

    ready() {
      const cert = tls.ready();
      return cert === true && probe ? probe.status : cert;
    },

    reload(next, prev) {
      refuseRestartOnly(next, prev, [...TLS_RESTART_FIELDS, 'mode']);
      const nextTarget = parseUpstream(next.upstream) as UpstreamTarget;
      if (nextTarget.kind !== 'tcp')
        throw new Error('upstream cannot change from tcp:// to another kind on reload');
      tls.reload(next, prev); // throws on bad files: reload refused
      config = next;
      target = nextTarget;
      server.maxConnections = next.maxConnections;
      if (next.upstream !== prev.upstream) probe?.retarget(probeTarget(next.upstream, nextTarget));
    },

    async drain(deadline) {
      server.close();
      try {
        await connections.drain(deadline, () => tls.connections);
      } finally {
        probe?.stop();
        tls.close();
      }
    },
  };
}

export function probeTarget(url: string, t: UpstreamTarget) {
  return { url, connect: t.path ? { path: t.path } : { host: t.host, port: t.port } };
}

/** What the PROXY header says about one client connection. */
function headerInfo(sock: TLSSocket): ProxyHeaderInfo {
  const id = identityOf(sock);
  const info = id?.info;
  const cipher = sock.getCipher();
  return {
    source: { address: sock.remoteAddress, port: sock.remotePort },
    destination: { address: sock.localAddress, port: sock.localPort },
    tls: {
      version: sock.getProtocol() ?? 'unknown',
      cipher: cipher?.standardName ?? cipher?.name,
      sni: (sock as TLSSocket & { servername?: string | false }).servername || undefined,
      certificate: info === undefined ? 'none' : sock.isSessionReused() ? 'session' : 'connection',
      verified: info !== undefined && sock.authorized,
      cn: info?.commonName,
      uri: info?.uri[0],
    },
  };
}
