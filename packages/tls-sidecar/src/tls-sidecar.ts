import type { Server as HttpServer } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AccessLog } from '@dds/core/access-log/access-log';
import { GrpcStatus, grpcAnswer, isGrpc } from '@dds/core/http/grpc';
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
import { type ClientPolicy, IDENTITY_HEADERS } from './client-identity.js';
import type { SidecarConfig } from './config.js';
import { SidecarUpstream, sidecarHooks } from './http-upstream.js';
import { createRedirectServer } from './redirect-server.js';
import { identityOf, ServerTls, TLS_RESTART_FIELDS } from './server-tls.js';
import { SidecarMetrics } from './sidecar-metrics.js';
import { UpstreamProbe } from './upstream-probe.js';
import { UpstreamTlsMetrics } from './upstream-tls.js';

/** What a config reload may swap while the listener stays up. */
interface Settings {
  config: SidecarConfig;
  policy: ClientPolicy | undefined;
  hooks: ProxyHooks;
}

const limitsOf = httpLimitsOf;

const RESTART_FIELDS = [...TLS_RESTART_FIELDS, 'redirectListen', 'mode'] as const;

/**
 * The TLS sidecar: one port serving HTTPS over HTTP/1.1 and HTTP/2 (ALPN), forwarding to a
 * plain-HTTP app through core's pooled reverse proxy, with certificates that follow their
 * files, optional client-certificate authentication and an optional 308 redirect listener.
 */
export function createTlsSidecar(ctx: ComponentContext<SidecarConfig>): Instance<SidecarConfig> {
  const { logger, registry } = ctx;
  let draining = false;
  const sessions = new Set<Http2Session>();
  const tls: ServerTls = new ServerTls(ctx.config, logger, () => metrics);
  const metrics: SidecarMetrics = new SidecarMetrics(registry, {
    connections: () => tls.connections,
    certificates: () => tls.served,
  });
  const accessLog = new AccessLog({ component: 'tls-sidecar', registry, logger });
  accessLog.configure(ctx.config);

  const makeHooks = (config: SidecarConfig, policy: ClientPolicy | undefined): ProxyHooks => {
    const hsts = config.hsts ? ['strict-transport-security', config.hsts] : undefined;
    return {
      ...sidecarHooks(config, { proto: 'https', metrics, accessLog, draining: () => draining, upstreams }),
      strip: IDENTITY_HEADERS,
      requestHeaders: policy ? (req) => identityOf(req.socket)?.headers : undefined,
      responseHeaders: hsts ? () => hsts : undefined,
      accessAttributes: policy ? (req) => identityOf(req.socket)?.access ?? '' : undefined,
    };
  };

  const initial = ctx.config;
  const policy0 = tls.policy;
  const upstreams: SidecarUpstream = new SidecarUpstream(
    initial,
    logger,
    metrics,
    new UpstreamTlsMetrics(registry),
  );
  let settings: Settings = {
    config: initial,
    policy: policy0,
    hooks: makeHooks(initial, policy0),
  };

  const onRequest = (req: ProxyRequest, res: ProxyResponse): void => {
    const s = settings;
    if (s.policy !== undefined) {
      const id = identityOf(req.socket);
      if (!id?.allowed) {
        deny(req, res);
        if (accessLog.enabled)
          accessLog.log(req, 403, 0, DENIED.length, undefined, id?.access, s.hooks.trusted);
        return;
      }
    }
    proxyRequest(req, res, upstreams.current, s.hooks);
  };

  const server: Http2SecureServer = createSecureServer({
    allowHTTP1: true,
    // Without this, a response written after the TLS 1.3 session tickets waits for the
    // client's delayed ACK (Nagle): tens of milliseconds per new connection.
    noDelay: true,
    ...tls.serverOptions(initial),
    settings: { maxHeaderListSize: initial.maxHeaderSize, maxConcurrentStreams: 256 },
  });
  // HTTP/2 streams straight from the stream API (no compat-layer request/response objects)
  serveH2Streams(
    server,
    onRequest,
    (status) => metrics.clientErrors.inc({ kind: status === 405 ? 'not_allowed' : 'bad_request' }),
    () => settings.config, // the minimum body rate, as it is after reloads
  );
  server.maxConnections = initial.maxConnections;
  // HTTP/1.1 connections (ALPN http/1.1, or none) are served by core's lean HTTP/1.1 server
  // instead of node:http's fallback inside the HTTP/2 server; h2 ones by node:http2.
  const http1 = createHttp1Server(limitsOf(initial), onRequest, (kind) => metrics.clientErrors.inc({ kind }));
  const [h2Listener] = server.listeners('secureConnection') as ((s: TLSSocket) => void)[];
  server.removeListener('secureConnection', h2Listener!);
  server.prependListener('secureConnection', (sock: TLSSocket) => {
    if (sock.alpnProtocol === 'h2') h2Listener!.call(server, sock);
    else http1.accept(sock);
  });
  const setLimits = (c: SidecarConfig) => {
    http1.setLimits(limitsOf(c));
    server.setTimeout(c.idleTimeout);
    server.maxConnections = c.maxConnections;
  };
  setLimits(initial);

  tls.attach(server, 'mark');
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    if (draining) session.close();
  });
  // Idle clients: HTTP/2 sessions get a GOAWAY, HTTP/1.1 sockets are closed.
  server.on('timeout', (subject: Http2Session | Socket) => {
    if ('goaway' in subject) subject.close();
    else subject.destroy();
  });
  http1.on('upgrade', (req: ProxyRequest, socket: Socket, head: Buffer) => {
    const s = settings;
    const id = identityOf(socket);
    if (s.policy !== undefined && !id?.allowed) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    proxyUpgrade(req, socket, head, upstreams.current, s.hooks, id?.headers);
  });

  const tracker = new ConnectionTracker(server);
  let redirect: HttpServer | undefined;
  let redirectTracker: ConnectionTracker | undefined;
  const listenAddress = parseAddress(initial.listen) as Address;
  const httpsPort = () =>
    settings.config.redirectPort ||
    (listenAddress.kind === 'tcp'
      ? ((server.address() as { port: number } | null)?.port ?? listenAddress.port)
      : 443);
  if (initial.redirectListen !== 'off') {
    redirect = createRedirectServer(limitsOf(initial), httpsPort);
    redirectTracker = new ConnectionTracker(redirect);
  }

  const probe = initial.readyUpstream
    ? new UpstreamProbe(upstreams.current, initial.upstreamCheckInterval)
    : undefined;

  return {
    async start() {
      await listen(server, listenAddress);
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

    reload(next, prev) {
      const restart = RESTART_FIELDS.filter((f) => JSON.stringify(next[f]) !== JSON.stringify(prev[f]));
      if (restart.length) throw new Error(`${restart.join(', ')} cannot change on reload; restart to apply`);
      accessLog.configure(next); // throws when a new destination cannot be opened: reload refused
      tls.reload(next, prev); // throws on bad files: reload refused
      const replaced = upstreams.reload(next, prev); // throws on unusable upstream TLS files
      const policy = tls.policy;
      settings = { config: next, policy, hooks: makeHooks(next, policy) };
      setLimits(next);
      if (replaced) {
        probe?.retarget(upstreams.current);
        void replaced.close(); // finishes in-flight requests first
      }
    },

    async drain(deadline) {
      draining = true;
      for (const s of sessions) s.close();
      // Idle HTTP/1.1 keep-alive sockets close now; busy ones after their response
      // (proxyRequest answers with `connection: close` while draining).
      const closeIdle = () => http1.closeIdleConnections();
      closeIdle();
      const tick = setInterval(closeIdle, 25);
      try {
        await Promise.all([tracker.drain(deadline), redirectTracker?.drain(deadline)]);
      } finally {
        clearInterval(tick);
        probe?.stop();
        tls.close();
        await upstreams.close();
        await accessLog.close();
      }
    },
  };
}

const DENIED = 'client certificate not allowed\n';

function deny(req: ProxyRequest, res: ProxyResponse): void {
  if (req.httpVersionMajor === 2 && isGrpc(req.headers['content-type'])) {
    // a gRPC client gets a gRPC status, not an HTTP one
    const answer = grpcAnswer(GrpcStatus.PERMISSION_DENIED, 'client certificate not allowed');
    res.writeProxiedHead(200, answer, undefined, { complete: true });
    return;
  }
  const body = DENIED;
  res.shouldKeepAlive = false;
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length) });
  res.end(body);
}
