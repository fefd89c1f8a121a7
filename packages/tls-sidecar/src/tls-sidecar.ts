import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { httpLimitsOf, upstreamOptionsOf } from '@dds/core/http/proxy-config';
import { type ProxyHooks, proxyRequest } from '@dds/core/http/reverse-proxy';
import { serveH2Streams } from '@dds/core/http/server/h2-stream';
import { createHttp1Server } from '@dds/core/http/server/http1-server';
import { TrustedProxies } from '@dds/core/http/trusted-proxies';
import { proxyUpgrade } from '@dds/core/http/upgrade-proxy';
import { createUpstream, type Upstream } from '@dds/core/http/upstream';
import { ConnectionTracker } from '@dds/core/lifecycle/connection-tracker';
import { type Address, parseAddress } from '@dds/core/net/host-port';
import { listen } from '@dds/core/net/listen';
import type { ComponentContext, Instance } from '@dds/core/runner';
import { defaultTlsPolicy } from '@dds/core/tls/secure-context';
import { CertificateStore } from './certificate-store.js';
import {
  type ClientIdentity,
  type ClientPolicy,
  clientPolicy,
  IDENTITY_HEADERS,
  identify,
} from './client-identity.js';
import type { SidecarConfig } from './config.js';
import { handshakeFailure } from './handshake-failure.js';
import { createRedirectServer } from './redirect-server.js';
import { SidecarMetrics } from './sidecar-metrics.js';
import { UpstreamProbe } from './upstream-probe.js';

/** Per-connection client identity, stored on the TLS socket (read through h2's socket proxy too). */
const kIdentity = Symbol('dds.clientIdentity');
type IdentifiedSocket = Socket & { [kIdentity]?: ClientIdentity };
type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

/** What a config reload may swap while the listener stays up. */
interface Settings {
  config: SidecarConfig;
  certs: CertificateStore;
  upstream: Upstream;
  policy: ClientPolicy | undefined;
  hooks: ProxyHooks;
}

const limitsOf = httpLimitsOf;

const upstreamOf = (c: SidecarConfig): Upstream => createUpstream(c.upstream, upstreamOptionsOf(c));

const CERT_FIELDS = ['cert', 'key', 'tlsDir', 'sniDirs', 'minTlsVersion', 'ciphers', 'clientCa'] as const;
const UPSTREAM_FIELDS = [
  'upstream',
  'upstreamConnections',
  'connectTimeout',
  'upstreamTimeout',
  'upstreamQueue',
  'upstreamQueueTimeout',
  'tunnelIdleTimeout',
] as const;
const RESTART_FIELDS = [
  'listen',
  'redirectListen',
  'clientAuth',
  'sessionTickets',
  'handshakeTimeout',
] as const;

const changed = (a: SidecarConfig, b: SidecarConfig, fields: readonly (keyof SidecarConfig)[]): boolean =>
  fields.some((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));

/**
 * The TLS sidecar: one port serving HTTPS over HTTP/1.1 and HTTP/2 (ALPN), forwarding to a
 * plain-HTTP app through core's pooled reverse proxy, with certificates that follow their
 * files, optional client-certificate authentication and an optional 308 redirect listener.
 */
export function createTlsSidecar(ctx: ComponentContext<SidecarConfig>): Instance<SidecarConfig> {
  const { logger, registry } = ctx;
  const tlsPolicy = defaultTlsPolicy({
    minVersion: ctx.config.minTlsVersion,
    ciphers: ctx.config.ciphers,
    sessionTickets: ctx.config.sessionTickets,
  });
  let draining = false;
  let openConnections = 0;
  const secureSockets = new Set<TLSSocket>();
  const sessions = new Set<Http2Session>();

  const metrics = new SidecarMetrics(registry, {
    connections: () => openConnections,
    certificates: () => settings.certs.all,
  });

  const makeCerts = (config: SidecarConfig): CertificateStore => {
    const store: CertificateStore = new CertificateStore(
      config,
      { ...tlsPolicy, minVersion: config.minTlsVersion, ciphers: config.ciphers },
      {
        reloaded: (holder, pair) => {
          metrics.certReloads.inc({ result: 'ok' });
          if (holder === store.main && settings?.certs === store) server.setSecureContext(holder.options);
          logger.info(
            {
              cert: holder.paths.cert,
              subject: pair.info.subject,
              notAfter: pair.info.notAfter,
              sha256: pair.info.sha256,
            },
            'certificate reloaded; new handshakes use it',
          );
        },
        rejected: (holder, err) => {
          metrics.certReloads.inc({ result: 'rejected' });
          logger.error(
            {
              cert: holder.paths.cert,
              key: holder.paths.key,
              error: err.message,
              code: (err as { code?: string }).code,
            },
            'new certificate refused; the previous one keeps serving',
          );
        },
      },
    );
    return store;
  };

  const makeHooks = (config: SidecarConfig, policy: ClientPolicy | undefined): ProxyHooks => {
    const hsts = config.hsts ? ['strict-transport-security', config.hsts] : undefined;
    return {
      trusted: new TrustedProxies(config.trustedProxies),
      proto: 'https',
      forwarded: config.forwarded,
      strip: IDENTITY_HEADERS,
      requestHeaders: policy ? (req) => (req.socket as IdentifiedSocket)[kIdentity]?.headers : undefined,
      responseHeaders: hsts ? () => hsts : undefined,
      onDone: (req, status, seconds, failure) => {
        metrics.request(req.httpVersionMajor === 2, status, seconds);
        if (failure === 'client_abort') metrics.clientAborts.inc();
        else if (failure)
          metrics.upstreamErrors.inc({ kind: failure === 'upstream_timeout' ? 'timeout' : 'error' });
      },
      draining: () => draining,
    };
  };

  const initial = ctx.config;
  const certs = makeCerts(initial);
  const policy0 = initial.clientAuth === 'none' ? undefined : clientPolicy(initial);
  let settings: Settings = {
    config: initial,
    certs,
    upstream: upstreamOf(initial),
    policy: policy0,
    hooks: makeHooks(initial, policy0),
  };

  const onRequest = (req: Req, res: Res): void => {
    const s = settings;
    if (s.policy !== undefined && !(req.socket as IdentifiedSocket)[kIdentity]?.allowed) {
      deny(res);
      return;
    }
    proxyRequest(req as IncomingMessage, res as ServerResponse, s.upstream, s.hooks);
  };

  const server: Http2SecureServer = createSecureServer({
    allowHTTP1: true,
    // Without this, a response written after the TLS 1.3 session tickets waits for the
    // client's delayed ACK (Nagle): tens of milliseconds per new connection.
    noDelay: true,
    ...certs.main.options,
    SNICallback: (name, cb) => settings.certs.sniCallback(name, cb),
    requestCert: initial.clientAuth !== 'none',
    rejectUnauthorized: false, // enforced in 'secureConnection' below
    handshakeTimeout: initial.handshakeTimeout,
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

  server.on('connection', (sock: Socket) => {
    openConnections++;
    sock.once('close', () => openConnections--);
  });
  server.on('secureConnection', (sock: TLSSocket) => {
    const policy = settings.policy;
    if (policy) {
      const id = identify(sock, policy);
      if (id.reason === 'no_certificate' || id.reason === 'unverified') {
        // Refused here rather than by Node's rejectUnauthorized, which closes the socket
        // without any event: this way the failure is logged and counted.
        const reason = id.reason === 'no_certificate' ? 'client_cert_missing' : 'client_cert_invalid';
        metrics.handshakeFailed(reason);
        logger.debug(
          { peer: sock.remoteAddress, reason, error: sock.authorizationError },
          'TLS handshake failed',
        );
        sock.destroy();
        return;
      }
      (sock as IdentifiedSocket)[kIdentity] = id;
      if (!id.allowed) {
        metrics.clientDenied.inc({ reason: id.reason ?? 'not_allowed' });
        logger.info(
          {
            peer: sock.remoteAddress,
            reason: id.reason,
            subject: id.info?.subject,
            sans: id.info && [...id.info.dns, ...id.info.uri],
          },
          'client certificate refused',
        );
      }
    }
    metrics.handshake(sock.getProtocol() ?? 'unknown', sock.isSessionReused());
    secureSockets.add(sock);
    sock.once('close', () => secureSockets.delete(sock));
  });
  server.on('tlsClientError', (err: Error & { code?: string }, sock: TLSSocket) => {
    const reason = handshakeFailure(err);
    metrics.handshakeFailed(reason);
    logger.debug({ peer: sock.remoteAddress, reason, error: err.message }, 'TLS handshake failed');
  });
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
  http1.on('upgrade', (req: IncomingMessage, socket: IdentifiedSocket, head: Buffer) => {
    const s = settings;
    const id = socket[kIdentity];
    if (s.policy !== undefined && !id?.allowed) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    proxyUpgrade(req, socket, head, s.upstream, s.hooks, id?.headers);
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
    ? new UpstreamProbe(settings.upstream, initial.upstreamCheckInterval)
    : undefined;

  return {
    async start() {
      await listen(server, listenAddress);
      if (redirect) await listen(redirect, parseAddress(initial.redirectListen) as Address);
      probe?.start();
      const info = settings.certs.main.pair.info;
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
      const info = settings.certs.main.pair.info;
      const now = Date.now();
      if (info.notAfter.getTime() <= now)
        return `certificate ${settings.certs.main.paths.cert} expired at ${info.notAfter.toISOString()}`;
      if (info.notBefore.getTime() > now)
        return `certificate ${settings.certs.main.paths.cert} is not valid before ${info.notBefore.toISOString()}`;
      return probe ? probe.status : true;
    },

    reload(next, prev) {
      const restart = RESTART_FIELDS.filter((f) => JSON.stringify(next[f]) !== JSON.stringify(prev[f]));
      if (restart.length) throw new Error(`${restart.join(', ')} cannot change on reload; restart to apply`);
      const old = settings;
      const certsChanged = changed(next, prev, CERT_FIELDS);
      const upstreamChanged = changed(next, prev, UPSTREAM_FIELDS);
      const nextCerts = certsChanged ? makeCerts(next) : old.certs; // throws on bad files: reload refused
      const policy = next.clientAuth === 'none' ? undefined : clientPolicy(next);
      const upstream = upstreamChanged ? upstreamOf(next) : old.upstream;
      settings = { config: next, certs: nextCerts, upstream, policy, hooks: makeHooks(next, policy) };
      setLimits(next);
      if (certsChanged) {
        server.setSecureContext(nextCerts.main.options);
        old.certs.close();
      }
      if (upstreamChanged) {
        probe?.retarget(upstream);
        void old.upstream.close(); // finishes in-flight requests first
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
        settings.certs.close();
        await settings.upstream.close().catch(() => {});
      }
    },
  };
}

function deny(res: Res): void {
  const body = 'client certificate not allowed\n';
  const r = res as ServerResponse;
  if ((res as { stream?: unknown }).stream === undefined) r.shouldKeepAlive = false;
  r.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length) });
  r.end(body);
}
