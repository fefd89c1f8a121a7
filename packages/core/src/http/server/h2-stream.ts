import { EventEmitter } from 'node:events';
import {
  constants,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { isHopByHopResponse } from '../forward-headers.js';
import { isGrpc } from '../grpc.js';
import type {
  HeaderInput,
  ProxiedHeadOptions,
  ProxyHandlerFn,
  ProxyRequest,
  ProxyResponse,
} from '../proxy-contract.js';
import { checkH2Head, refusalText } from '../request-checks.js';

/**
 * An HTTP/2 request as a ProxyRequest, straight from node:http2's stream API: no compat-layer
 * Http2ServerRequest (a second Readable per request). The stream itself is the body source.
 */
export class H2Request implements ProxyRequest {
  readonly httpVersionMajor = 2;
  readonly httpVersionMinor = 0;
  /** body bytes read since rateSince (minimum body rate); -1 when no watch applies */
  rateBytes = -1;
  rateSince = 0;

  constructor(
    readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    /** flat [name, value, ...], pseudo-headers included */
    readonly rawHeaders: string[],
  ) {}

  get method(): string {
    return this.headers[':method'] ?? 'GET';
  }

  get url(): string {
    return this.headers[':path'] ?? '/';
  }

  get socket(): Socket {
    return this.stream.session!.socket as Socket;
  }

  /** END_STREAM came with the HEADERS: no body */
  get bodyless(): boolean {
    return this.stream.endAfterHeaders;
  }

  on(event: string, listener: (chunk: Buffer) => void): this {
    // the body's reader starts it flowing: from then on its bytes are counted for the rate watch
    if (event === 'data' && this.rateBytes === 0) this.stream.on('data', (c: Buffer) => this.count(c));
    this.stream.on(event, listener);
    return this;
  }

  private count(chunk: Buffer): void {
    this.rateBytes += chunk.length;
  }

  removeListener(event: string, listener: (chunk: Buffer) => void): this {
    this.stream.removeListener(event, listener);
    return this;
  }

  pause(): this {
    this.stream.pause();
    return this;
  }

  resume(): this {
    this.stream.resume();
    return this;
  }
}

/** The response side of one stream, as a ProxyResponse. */
export class H2Response extends EventEmitter implements ProxyResponse {
  statusCode = 200;
  /** HTTP/2 streams end alone: the connection stays (drain sends GOAWAY to the session) */
  shouldKeepAlive = true;
  /** each write goes to nghttp2, which frames and sends when the session writes */
  deferFlush = false;
  /** sent when the body ends (the head was sent with waitForTrailers) */
  private trailers: OutgoingHttpHeaders | undefined;
  private awaitingTrailers = false;

  constructor(readonly stream: ServerHttp2Stream) {
    super();
    stream.once('close', () => this.emit('close'));
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  get destroyed(): boolean {
    return this.stream.destroyed;
  }

  get writableEnded(): boolean {
    return this.stream.writableEnded;
  }

  /** Headers as an object or a flat [name, value, ...] list (names lower-cased for HTTP/2). */
  writeHead(status: number, headers?: HeaderInput): this {
    const s = this.stream;
    this.statusCode = status;
    if (s.headersSent || s.destroyed || s.closed) return this;
    const out: OutgoingHttpHeaders = { ':status': status };
    if (Array.isArray(headers)) {
      const flat = headers as readonly string[];
      for (let i = 0; i < flat.length; i += 2) out[flat[i]!.toLowerCase()] = flat[i + 1]!;
    } else if (headers) Object.assign(out, headers);
    s.respond(out);
    return this;
  }

  /**
   * The upstream's head as HTTP/2 HEADERS: names lower-cased, hop-by-hop ones dropped, repeated
   * names as one field of several values; then the proxy's extras. `complete` answers with the
   * head alone (END_STREAM on HEADERS: a gRPC trailers-only response); `trailers` keeps the
   * stream open after the body for trailers (sendTrailers / end), as gRPC needs.
   */
  writeProxiedHead(
    status: number,
    headers: string[],
    extra: readonly string[] | undefined,
    opts: ProxiedHeadOptions = {},
  ): void {
    const s = this.stream;
    this.statusCode = status;
    if (s.headersSent || s.destroyed || s.closed) return;
    const out: OutgoingHttpHeaders = {};
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!.toLowerCase();
      if (isHopByHopResponse(name)) continue;
      const v = headers[i + 1]!;
      const prev = out[name];
      out[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
    }
    if (extra) for (let i = 0; i < extra.length; i += 2) out[extra[i]!.toLowerCase()] = extra[i + 1]!;
    out[':status'] = status;
    const waitForTrailers = opts.trailers === true && opts.complete !== true;
    if (waitForTrailers) {
      this.awaitingTrailers = true;
      s.once('wantTrailers', () => {
        this.awaitingTrailers = false;
        s.sendTrailers(this.trailers ?? {});
      });
    }
    s.respond(out, { endStream: opts.complete === true, waitForTrailers });
  }

  /** true while the stream waits for trailers: endWithTrailers can still send some. */
  get trailersPending(): boolean {
    return this.awaitingTrailers && !this.stream.destroyed;
  }

  /** Ends the body; the trailers (flat) go out when the head asked for them. */
  endWithTrailers(trailers: readonly string[] | undefined): void {
    if (trailers !== undefined && trailers.length > 0) {
      const t: OutgoingHttpHeaders = {};
      for (let i = 0; i < trailers.length; i += 2) t[trailers[i]!.toLowerCase()] = trailers[i + 1]!;
      this.trailers = t;
    }
    if (!this.stream.headersSent) this.writeHead(this.statusCode);
    if (!this.stream.destroyed) this.stream.end();
  }

  /** Nothing is held: writes go to the stream at once. */
  flush(): void {}

  /** Resets the stream with an HTTP/2 error code (RST_STREAM), e.g. one the upstream sent. */
  reset(code: number): void {
    if (!this.stream.destroyed) this.stream.close(code);
  }

  write(chunk: Buffer | string): boolean {
    if (!this.stream.headersSent) this.writeHead(this.statusCode);
    if (this.stream.destroyed) return false;
    const more = this.stream.write(chunk);
    if (!more) this.stream.once('drain', () => this.emit('drain'));
    return more;
  }

  end(chunk?: Buffer | string): this {
    if (!this.stream.headersSent) this.writeHead(this.statusCode);
    if (!this.stream.destroyed) this.stream.end(chunk);
    return this;
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/**
 * Serves an HTTP/2 server's streams with a request handler of the node:http shape, through
 * H2Request / H2Response instead of the compat layer. Heads the proxy will not forward
 * (checkH2Head) are answered 400 / 405 here; `Expect: 100-continue` is answered, and stream
 * errors (client resets) are absorbed: the proxy sees them as the stream closing.
 */
export function serveH2Streams(
  server: Http2SecureServer | Http2Server,
  handler: ProxyHandlerFn,
  onRefused?: (status: number) => void,
  bodyRate?: () => BodyRateLimits,
): void {
  const watch = bodyRate ? new BodyRateWatch(bodyRate) : undefined;
  server.on('close', () => watch?.stop());
  server.on(
    'stream',
    (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      stream.on('error', ignore);
      const verdict = checkH2Head(raw);
      if (verdict !== 0) {
        // refused before any handler or upstream sees it (RFC 9113 8.1.1: malformed)
        const body = refusalText(verdict);
        stream.respond({ ':status': verdict, 'content-type': 'text/plain', 'content-length': body.length });
        stream.end(body);
        onRefused?.(verdict);
        return;
      }
      if (headers.expect === '100-continue') stream.additionalHeaders({ ':status': 100 });
      const req = new H2Request(stream, headers, raw);
      // gRPC streams (bidi, client-streaming) may send a message now and then for hours: the
      // minimum body rate would cut them, and HTTP/2 flow control already bounds what they hold
      if (watch !== undefined && !stream.endAfterHeaders && !isGrpc(headers['content-type'])) watch.add(req);
      handler(req, new H2Response(stream));
    },
  );
}

function ignore(): void {}

/** The minimum body rate, read at each sweep (it follows config reloads). */
export interface BodyRateLimits {
  /** bytes per second a body must average over each window; 0 off */
  minBodyRate: number;
  /** the window (the header timeout; 10 s when 0) */
  headerTimeout: number;
}

/**
 * The minimum body rate for HTTP/2 request bodies, as the lean HTTP/1.1 server applies it: while
 * the proxy reads a body (the stream flows), it must bring minBodyRate bytes a second averaged
 * over each window, or the stream is reset (the upstream request is aborted). A body the proxy
 * is not reading (waiting for an upstream connection, or paused by back-pressure) is not timed:
 * HTTP/2 flow control keeps it from piling up. One timer for all streams.
 */
class BodyRateWatch {
  private readonly streams = new Set<H2Request>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly limits: () => BodyRateLimits) {}

  add(req: H2Request): void {
    if (this.limits().minBodyRate <= 0) return;
    req.rateBytes = 0;
    req.rateSince = performance.now();
    this.streams.add(req);
    req.stream.once('close', () => this.streams.delete(req));
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), 250);
      this.timer.unref();
    }
  }

  private sweep(): void {
    if (this.streams.size === 0) {
      this.stop();
      return;
    }
    const { minBodyRate, headerTimeout } = this.limits();
    const window = headerTimeout > 0 ? headerTimeout : 10_000;
    const now = performance.now();
    for (const req of this.streams) {
      const s = req.stream;
      if (s.readableEnded || s.destroyed) {
        this.streams.delete(req);
        continue;
      }
      if (s.readableFlowing !== true) {
        req.rateSince = now;
        req.rateBytes = 0;
        continue;
      }
      const elapsed = now - req.rateSince;
      if (elapsed < window) continue;
      if (minBodyRate > 0 && req.rateBytes < (minBodyRate * elapsed) / 1000) {
        this.streams.delete(req);
        s.close(constants.NGHTTP2_CANCEL);
        continue;
      }
      req.rateSince = now;
      req.rateBytes = 0;
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
