import { createServer as createH2cServer, type Http2Session } from 'node:http2';
import { createServer, type Socket } from 'node:net';
import { AccessLog } from '@dds/core/access-log/access-log';
import { httpLimitsOf } from '@dds/core/http/proxy-config';
import type { ProxyRequest, ProxyResponse } from '@dds/core/http/proxy-contract';
import { type ProxyHooks, proxyRequest } from '@dds/core/http/reverse-proxy';
import { serveH2Streams } from '@dds/core/http/server/h2-stream';
import { createHttp1Server } from '@dds/core/http/server/http1-server';
import { proxyUpgrade } from '@dds/core/http/upgrade-proxy';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { ComponentContext, Instance } from '@dds/core/runner';
import type { SidecarConfig } from '../config.js';
import { SidecarUpstream, sidecarHooks } from '../http-upstream.js';
import { SidecarMetrics } from '../sidecar-metrics.js';
import { UpstreamProbe } from '../upstream-probe.js';
import { UpstreamTlsMetrics } from '../upstream-tls.js';
import { clientCertificateReady } from './client-readiness.js';

/** The HTTP/2 connection preface starts with this; no HTTP/1.1 method does. */
const PREFACE = Buffer.from('PRI * HTTP/2.0');

/**
 * Client mode for HTTP (`--mode client --upstream https://`): the app sends plain HTTP/1.1, or
 * HTTP/2 with prior knowledge (gRPC clients on an insecure channel), to a local port; each request
 * goes on over TLS to the upstream, presenting the pod's certificate and checking the server's
 * against --ca and --allow-san, in HTTP/2 when the upstream offers it by ALPN.
 */
export function createHttpClient(ctx: ComponentContext<SidecarConfig>): Instance<SidecarConfig> {
  const { logger, registry } = ctx;
  const initial = ctx.config;
  let draining = false;
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  const metrics: SidecarMetrics = new SidecarMetrics(registry, {
    connections: () => sockets.size,
    certificates: () => {
      const pair = upstreams.clientTls?.pair;
      return pair ? [{ cert: pair.material.paths.cert, info: pair.info }] : [];
    },
  });
  const accessLog = new AccessLog({ component: 'tls-sidecar', registry, logger });
  accessLog.configure(initial);
  const upstreams: SidecarUpstream = new SidecarUpstream(
    initial,
    logger,
    metrics,
    new UpstreamTlsMetrics(registry),
  );
  const hooksOf = (c: SidecarConfig): ProxyHooks =>
    sidecarHooks(c, { proto: 'http', metrics, accessLog, draining: () => draining, upstreams });
  let hooks = hooksOf(initial);
  let config = initial;

  const onRequest = (req: ProxyRequest, res: ProxyResponse): void =>
    proxyRequest(req, res, upstreams.current, hooks);
  const http1 = createHttp1Server(httpLimitsOf(initial), onRequest, (kind) =>
    metrics.clientErrors.inc({ kind }),
  );
  http1.on('upgrade', (req: ProxyRequest, socket: Socket, head: Buffer) =>
    proxyUpgrade(req, socket, head, upstreams.current, hooks),
  );
  const h2c = createH2cServer({
    settings: { maxHeaderListSize: initial.maxHeaderSize, maxConcurrentStreams: 256 },
  });
  serveH2Streams(h2c, onRequest, (status) =>
    metrics.clientErrors.inc({ kind: status === 405 ? 'not_allowed' : 'bad_request' }),
  );
  h2c.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    if (draining) session.close();
  });
  h2c.on('timeout', (session: Http2Session) => session.close());
  h2c.setTimeout(initial.idleTimeout);

  // One plain port for both: the first bytes tell an HTTP/2 preface from an HTTP/1.1 request.
  const server = createServer(
    { allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
    (sock: Socket) => {
      sockets.add(sock);
      sock.once('close', () => sockets.delete(sock));
      // a client that sends nothing is closed after the header timeout, as the servers would
      const silent = setTimeout(() => sock.destroy(), config.headerTimeout || 10_000);
      sock.once('data', (first: Buffer) => {
        clearTimeout(silent);
        sock.pause();
        sock.unshift(first);
        const n = Math.min(first.length, PREFACE.length);
        if (first.subarray(0, n).equals(PREFACE.subarray(0, n)) && n >= 3) h2c.emit('connection', sock);
        else {
          http1.accept(sock);
          sock.resume(); // paused above: 'data' listeners do not restart a paused socket
        }
      });
      sock.on('error', () => {});
      sock.once('close', () => clearTimeout(silent));
      sock.resume();
    },
  );
  server.maxConnections = initial.maxConnections;
  const tracker = new ConnectionTracker(server);
  const probe = initial.readyUpstream
    ? new UpstreamProbe(upstreams.current, initial.upstreamCheckInterval)
    : undefined;

  return {
    async start() {
      await listen(server, parseAddress(initial.listen) as Address);
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

    reload(next, prev) {
      const restart = (['listen', 'mode'] as const).filter((f) => next[f] !== prev[f]);
      if (restart.length) throw new Error(`${restart.join(', ')} cannot change on reload; restart to apply`);
      accessLog.configure(next); // a destination that cannot be opened refuses the reload
      const replaced = upstreams.reload(next, prev); // throws on unusable TLS files
      hooks = hooksOf(next);
      config = next;
      http1.setLimits(httpLimitsOf(next));
      h2c.setTimeout(next.idleTimeout);
      server.maxConnections = next.maxConnections;
      if (replaced) {
        probe?.retarget(upstreams.current);
        void replaced.close();
      }
    },

    async drain(deadline) {
      draining = true;
      for (const s of sessions) s.close();
      const closeIdle = () => http1.closeIdleConnections();
      closeIdle();
      const tick = setInterval(closeIdle, 25);
      try {
        await tracker.drain(deadline);
      } finally {
        clearInterval(tick);
        probe?.stop();
        await upstreams.close();
        await accessLog.close();
      }
    },
  };
}
