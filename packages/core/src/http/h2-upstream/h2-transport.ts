import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  constants,
  connect as h2connect,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { BodySource } from '../proxy-contract.js';
import { BodyFraming, type Transport, type TransportControl, type TransportExchange } from '../transport.js';
import { validHeaders } from '../upstream-pool/request-head.js';

export interface H2TransportOptions {
  host: string;
  port: number;
  /** TLS to the upstream (options asked for at each new connection); h2c (prior knowledge) without */
  tls?: (() => ConnectionOptions) | undefined;
  /** most connections (sessions) at once; requests share a session up to its stream limit */
  connections: number;
  connectTimeout: number;
  /** default wait for a response head; 0 none (a request may bring its own) */
  headersTimeout: number;
  /** longest silence on a stream once its response has started; 0 none */
  bodyTimeout: number;
  /** a new TLS session negotiated something else than h2 (the upstream changed) */
  onAlpnMismatch?: (protocol: string | false) => void;
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 8.2.2); Host becomes :authority. */
const NOT_IN_H2 = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'host',
]);

// Windows that keep a fast local upstream streaming without letting one slow client pin much
// memory: a stream buffers at most STREAM_WINDOW before flow control stops the upstream.
const STREAM_WINDOW = 256 * 1024;
const SESSION_WINDOW = 4 * 1024 * 1024;
/** streams per session assumed until the upstream's SETTINGS say otherwise */
const DEFAULT_STREAMS = 100;

interface Session {
  h2: ClientHttp2Session;
  active: number;
  /** GOAWAY received or closing: no new streams */
  closing: boolean;
}

/**
 * HTTP/2 to the upstream (h2c with prior knowledge, or TLS where ALPN chose h2), built on
 * node:http2's client: requests are multiplexed on a few sessions (a new one when every session
 * is at its peer's stream limit, up to `connections`), bodies stream both ways under HTTP/2 flow
 * control (a paused reader stops the peer), trailers pass through, and a stream reset by either
 * side is reset on the other. Used for gRPC: what the proxy forwards is exactly the call.
 */
export class H2Transport implements Transport {
  private readonly sessions: Session[] = [];
  private closed = false;
  private onClosed: (() => void) | undefined;
  private readonly authority: string;
  private readonly scheme: 'http' | 'https';
  /** a socket already connected and negotiated (ALPN), used by the first session */
  private first: Socket | undefined;

  constructor(
    private readonly opts: H2TransportOptions,
    first?: TLSSocket,
  ) {
    this.scheme = opts.tls ? 'https' : 'http';
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    this.authority = `${host}:${opts.port}`;
    this.first = first;
  }

  request(ex: TransportExchange): void {
    if (ex.abandoned) return;
    if (this.closed) {
      ex.onResponseError(new Error('upstream transport closed'), false);
      return;
    }
    if (ex.extra !== undefined && !validHeaders(ex.extra)) {
      ex.onResponseError(new Error('invalid request header for the upstream'), false);
      return;
    }
    const session = this.pick();
    let stream: ClientHttp2Stream;
    try {
      stream = session.h2.request(this.headersOf(ex), {
        endStream: ex.body === null || ex.framing === BodyFraming.None,
      });
    } catch (err) {
      // a header value or name HTTP/2 refuses (node:http2 validates them)
      ex.onResponseError(err as Error, false);
      return;
    }
    session.active++;
    new H2Exchange(this, session, stream, ex);
  }

  /** A session with room for one more stream, opened if needed. */
  private pick(): Session {
    let best: Session | undefined;
    for (const s of this.sessions) {
      if (s.closing || s.h2.destroyed) continue;
      const limit = s.h2.remoteSettings?.maxConcurrentStreams ?? DEFAULT_STREAMS;
      if (s.active < limit) return s;
      if (best === undefined || s.active < best.active) best = s;
    }
    // every session is full: open another, or queue on the least busy (nghttp2 holds the stream)
    if (best === undefined || this.sessions.length < this.opts.connections) return this.open();
    return best;
  }

  private open(): Session {
    const o = this.opts;
    const first = this.first;
    this.first = undefined;
    const h2 = h2connect(`${this.scheme}://${this.authority}`, {
      createConnection: () =>
        first ??
        (o.tls
          ? noDelay(tlsConnect({ host: o.host, port: o.port, ALPNProtocols: ['h2', 'http/1.1'], ...o.tls() }))
          : netConnect({ host: o.host, port: o.port, noDelay: true })),
      settings: { enablePush: false, initialWindowSize: STREAM_WINDOW },
    });
    const session: Session = { h2, active: 0, closing: false };
    this.sessions.push(session);
    const timer =
      o.connectTimeout > 0 && first === undefined
        ? setTimeout(() => {
            h2.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' }));
          }, o.connectTimeout)
        : undefined;
    h2.once('connect', () => {
      if (timer) clearTimeout(timer);
      if (o.tls && h2.alpnProtocol !== 'h2') {
        o.onAlpnMismatch?.(h2.alpnProtocol ?? false);
        h2.destroy(new Error(`the upstream chose ${h2.alpnProtocol || 'no protocol'} instead of h2`));
        return;
      }
      h2.setLocalWindowSize(SESSION_WINDOW);
    });
    h2.on('error', () => {}); // its streams report it
    h2.once('goaway', () => {
      session.closing = true;
    });
    h2.once('close', () => {
      if (timer) clearTimeout(timer);
      session.closing = true;
      const i = this.sessions.indexOf(session);
      if (i >= 0) this.sessions.splice(i, 1);
      if (this.closed && this.sessions.length === 0) this.onClosed?.();
    });
    return session;
  }

  /** A stream finished: an idle session of a closed transport goes away. */
  streamDone(session: Session): void {
    session.active--;
    if (this.closed && session.active === 0) session.h2.close();
  }

  get defaultHeadersTimeout(): number {
    return this.opts.headersTimeout;
  }

  get bodyTimeout(): number {
    return this.opts.bodyTimeout;
  }

  private headersOf(ex: TransportExchange): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = {
      ':method': ex.method,
      ':path': ex.path,
      ':scheme': this.scheme,
      ':authority': ex.defaultHost ?? this.authority,
    };
    addHeaders(out, ex.headers);
    if (ex.extra !== undefined) addHeaders(out, ex.extra);
    if (ex.trailers) out.te = 'trailers';
    if (ex.length !== undefined) out['content-length'] = ex.length;
    return out;
  }

  close(): Promise<void> {
    this.closed = true;
    for (const s of this.sessions) if (s.active === 0) s.h2.close();
    if (this.sessions.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onClosed = resolve;
    });
  }
}

/** Small frames (a unary call's) go out at once instead of waiting for the peer's ACK (Nagle). */
function noDelay<S extends Socket>(s: S): S {
  s.setNoDelay(true);
  return s;
}

/** Flat headers into an HTTP/2 header object: names lower-cased, repeats kept, Host as :authority. */
function addHeaders(out: OutgoingHttpHeaders, flat: readonly string[]): void {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    if (NOT_IN_H2.has(name)) {
      if (name === 'host') out[':authority'] = value;
      continue;
    }
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (name === 'cookie') out[name] = `${prev}; ${value}`;
    else out[name] = Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  }
}

/** A response or trailer header object as a flat list, pseudo-headers left out. */
function flatHeaders(h: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in h) {
    if (name.charCodeAt(0) === 58 /* : */) continue;
    const v = h[name];
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) out.push(name, x);
    else out.push(name, String(v));
  }
  return out;
}

/** One request on one stream: the request body in, the response out, resets both ways. */
class H2Exchange implements TransportControl {
  private started = false;
  private ended = false;
  private aborted = false;
  private trailers: string[] | undefined;
  private error: (Error & { code?: string }) | undefined;
  private timedOut = false;

  constructor(
    private readonly transport: H2Transport,
    private readonly session: Session,
    private readonly stream: ClientHttp2Stream,
    private readonly ex: TransportExchange,
  ) {
    ex.onRequestStart(this);
    const headersTimeout = ex.headersTimeout ?? transport.defaultHeadersTimeout;
    stream.on('timeout', () => this.timeout());
    if (headersTimeout > 0) stream.setTimeout(headersTimeout);
    stream.on('response', (headers: IncomingHttpHeaders, flags: number) => this.onResponse(headers, flags));
    stream.on('data', (chunk: Buffer) => {
      if (!this.ex.onResponseData(chunk)) stream.pause();
      this.ex.onReadDone?.();
    });
    stream.on('trailers', (headers: IncomingHttpHeaders) => {
      this.trailers = flatHeaders(headers);
    });
    stream.on('end', () => this.onEnd());
    stream.on('error', (err: Error) => {
      this.error ??= err;
    });
    stream.on('close', () => this.onClose());
    if (ex.body !== null && ex.framing !== BodyFraming.None) this.pump(ex.body);
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    const status = Number(headers[':status']);
    const bodyTimeout = this.transport.bodyTimeout;
    // the head arrived: from here, only silence on the stream counts (0: none)
    this.stream.setTimeout(this.ex.headersTimeout === 0 ? 0 : bodyTimeout);
    this.started = true;
    this.ex.onResponseStart(status, flatHeaders(headers), (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
  }

  private onEnd(): void {
    if (this.ended || this.aborted) return;
    if (!this.started) return; // a stream that ends without a head is reported at close
    // node:http2 ends the readable side of a stream whose session died as well: only an end
    // with trailers, or with the session alive and no reset, is a complete response
    const code = this.stream.rstCode;
    const truncated =
      this.trailers === undefined &&
      (this.session.h2.destroyed || (code !== undefined && code !== constants.NGHTTP2_NO_ERROR));
    if (truncated) return; // reported at close, as an error
    this.ended = true;
    this.ex.onResponseEnd(this.trailers);
  }

  private onClose(): void {
    this.transport.streamDone(this.session);
    if (this.ended || this.aborted) return;
    this.ended = true;
    const code = this.stream.rstCode;
    const sessionGone = this.session.h2.destroyed || this.session.h2.closed;
    const err: Error & { code?: string; rstCode?: number } =
      this.error ??
      new Error(sessionGone ? 'upstream connection lost' : `upstream reset the stream (code ${code})`);
    // a reset the upstream sent on a live session is passed on as such (REFUSED_STREAM, CANCEL ...)
    if (!sessionGone && !this.timedOut && code !== undefined && code !== constants.NGHTTP2_NO_ERROR)
      err.rstCode = code;
    this.ex.onResponseError(err, this.timedOut || err.code === 'ETIMEDOUT');
  }

  private timeout(): void {
    this.timedOut = true;
    this.error = Object.assign(new Error(this.started ? 'upstream stalled' : 'upstream timed out'), {
      code: 'ETIMEDOUT',
    });
    this.stream.close(constants.NGHTTP2_CANCEL);
  }

  /** Request body into the stream, paused while the upstream's window is full. */
  private pump(body: BodySource): void {
    const s = this.stream;
    // the declared length is what goes out, whatever the body source does (as the HTTP/1.1 pool)
    const sized = this.ex.framing === BodyFraming.Length;
    let left = sized ? Number(this.ex.length) : 0;
    const onData = (chunk: Buffer) => {
      if (chunk.length === 0 || s.destroyed) return;
      if (sized) left -= chunk.length;
      if (sized && left < 0) {
        cleanup();
        this.error = new Error('request body longer than its Content-Length');
        s.close(constants.NGHTTP2_CANCEL);
        return;
      }
      if (!s.write(chunk)) body.pause();
    };
    const onEnd = () => {
      cleanup();
      if (sized && left > 0) {
        this.error = new Error('request body shorter than its Content-Length');
        if (!s.destroyed) s.close(constants.NGHTTP2_CANCEL);
        return;
      }
      if (!s.destroyed) s.end();
    };
    const onClose = () => {
      cleanup();
      // the client's body was cut short: the upstream must not take it as complete
      if (!s.writableEnded && !s.destroyed) s.close(constants.NGHTTP2_CANCEL);
    };
    const onDrain = () => body.resume();
    const cleanup = () => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('close', onClose);
      s.removeListener('drain', onDrain);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('close', onClose);
    s.on('drain', onDrain);
  }

  resume(): void {
    if (!this.stream.destroyed) this.stream.resume();
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    if (!this.stream.destroyed) this.stream.close(constants.NGHTTP2_CANCEL);
  }
}
