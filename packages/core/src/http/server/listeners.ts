import { createServer as createH2Server, type Http2Server, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import {
  createServer as createTlsServer,
  type TLSSocket,
  type TlsOptions,
  type Server as TlsServer,
} from 'node:tls';
import type { ClientErrorKind, HttpLimits } from '../http-server.js';
import type { ProxyHandlerFn } from '../proxy-contract.js';
import { type BodyRateLimits, serveH2Streams } from './h2-stream.js';
import { createHttp1Server, type HttpFront } from './http1-server.js';

/**
 * The listeners a proxy serves on (http-proxy.ts takes any of them): what is bound and tracked
 * for drain, and the HTTP front ends behind it.
 * - http1Listener: the lean HTTP/1.1 server alone;
 * - alpnListener: one TLS port, HTTP/2 or HTTP/1.1 by ALPN;
 * - cleartextListener: one plain port, HTTP/2 with prior knowledge (h2c) or HTTP/1.1 by the
 *   first bytes.
 * All on public APIs: an accepted (or TLS) socket is handed to node:http2's server as a
 * 'connection', or to the lean server's accept().
 */
export interface ProxyListener {
  /** what listens, and whose connections drain waits for */
  readonly server: NetServer;
  /** the HTTP/1.1 front end ('upgrade' comes from it) */
  readonly http1: HttpFront;
  /** Applies the limits a reload may change. */
  setLimits(limits: ListenerLimits): void;
  /** Drain: HTTP/2 sessions get a GOAWAY, idle HTTP/1.1 connections close (called on a tick). */
  closeIdle(): void;
}

export interface ListenerLimits extends HttpLimits {
  /** most client connections at once (0: no limit) */
  maxConnections?: number;
}

export interface ListenerOptions {
  handler: ProxyHandlerFn;
  limits: ListenerLimits;
  onClientError?(kind: ClientErrorKind): void;
  /** the minimum body rate of HTTP/2 request bodies, read at each sweep (it follows reloads) */
  bodyRate?(): BodyRateLimits;
}

/** The lean HTTP/1.1 server on its own. */
export function http1Listener(o: ListenerOptions): ProxyListener {
  const http1 = createHttp1Server(o.limits, o.handler, o.onClientError);
  const setLimits = (l: ListenerLimits) => {
    http1.setLimits(l);
    if (l.maxConnections !== undefined) http1.maxConnections = l.maxConnections || Number.POSITIVE_INFINITY;
  };
  setLimits(o.limits);
  return { server: http1, http1, setLimits, closeIdle: () => http1.closeIdleConnections() };
}

/** What both dual listeners run: the lean HTTP/1.1 server and node:http2's, sessions tracked. */
class DualFront {
  readonly http1: HttpFront;
  readonly h2: Http2Server;
  private readonly sessions = new Set<Http2Session>();
  private draining = false;

  constructor(o: ListenerOptions) {
    this.http1 = createHttp1Server(o.limits, o.handler, o.onClientError);
    this.h2 = createH2Server({
      settings: { maxHeaderListSize: o.limits.maxHeaderSize, maxConcurrentStreams: 256 },
    });
    serveH2Streams(
      this.h2,
      o.handler,
      (status) => o.onClientError?.(status === 405 ? 'not_allowed' : 'bad_request'),
      o.bodyRate,
    );
    this.h2.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
      if (this.draining) session.close();
    });
    // an idle HTTP/2 session gets a GOAWAY (HTTP/1.1 has the lean server's keep-alive timeout)
    this.h2.on('timeout', (session: Http2Session) => session.close());
  }

  setLimits(server: NetServer, l: ListenerLimits): void {
    this.http1.setLimits(l);
    this.h2.setTimeout(l.idleTimeout);
    if (l.maxConnections !== undefined) server.maxConnections = l.maxConnections || Number.POSITIVE_INFINITY;
  }

  closeIdle(): void {
    if (!this.draining) {
      this.draining = true;
      for (const s of this.sessions) s.close();
    }
    this.http1.closeIdleConnections();
  }
}

/** A TLS listener and what it has for HTTP: the proxy's listener plus the TLS server itself. */
export interface AlpnListener extends ProxyListener {
  readonly server: TlsServer;
  readonly h2: Http2Server;
}

/**
 * One TLS port for HTTP/2 and HTTP/1.1, chosen by ALPN (h2 preferred): HTTP/2 connections go
 * to node:http2's server, the rest (ALPN http/1.1, or none) to the lean HTTP/1.1 server.
 * 'secureConnection' listeners the caller adds (client authentication) run in the same tick,
 * before anything is read from the socket: they may still destroy it.
 */
export function alpnListener(o: ListenerOptions & { tls: TlsOptions }): AlpnListener {
  const front = new DualFront(o);
  const server = createTlsServer({
    // Without this, a response written after the TLS 1.3 session tickets waits for the
    // client's delayed ACK (Nagle): tens of milliseconds per new connection.
    noDelay: true,
    minVersion: 'TLSv1.2', // HTTP/2 needs 1.2 at least (RFC 9113 9.2)
    ...o.tls,
    ALPNProtocols: ['h2', 'http/1.1'],
  });
  server.on('secureConnection', (sock: TLSSocket) => {
    if (sock.destroyed) return;
    if (sock.alpnProtocol === 'h2') front.h2.emit('connection', sock);
    else front.http1.accept(sock);
  });
  const listener: AlpnListener = {
    server,
    http1: front.http1,
    h2: front.h2,
    setLimits: (l) => front.setLimits(server, l),
    closeIdle: () => front.closeIdle(),
  };
  listener.setLimits(o.limits);
  return listener;
}

/** The HTTP/2 connection preface starts with this; no HTTP/1.1 method does. */
const PREFACE = Buffer.from('PRI * HTTP/2.0');

/**
 * One plain port for HTTP/1.1 and HTTP/2 with prior knowledge (gRPC clients on an insecure
 * channel): the first bytes tell an HTTP/2 preface from an HTTP/1.1 request. A client that
 * sends nothing is closed after the header timeout, as the servers would.
 */
export function cleartextListener(o: ListenerOptions): ProxyListener & { readonly h2: Http2Server } {
  const front = new DualFront(o);
  let headerTimeout = o.limits.headerTimeout;
  const server = createNetServer(
    { allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
    (sock: Socket) => {
      const silent = setTimeout(() => sock.destroy(), headerTimeout || 10_000);
      sock.once('data', (first: Buffer) => {
        clearTimeout(silent);
        sock.pause();
        sock.unshift(first);
        const n = Math.min(first.length, PREFACE.length);
        if (n >= 3 && first.subarray(0, n).equals(PREFACE.subarray(0, n))) front.h2.emit('connection', sock);
        else {
          front.http1.accept(sock);
          sock.resume(); // paused above: 'data' listeners do not restart a paused socket
        }
      });
      sock.on('error', () => {});
      sock.once('close', () => clearTimeout(silent));
      sock.resume();
    },
  );
  const listener = {
    server,
    http1: front.http1,
    h2: front.h2,
    setLimits: (l: ListenerLimits) => {
      headerTimeout = l.headerTimeout;
      front.setLimits(server, l);
    },
    closeIdle: () => front.closeIdle(),
  };
  listener.setLimits(o.limits);
  return listener;
}
