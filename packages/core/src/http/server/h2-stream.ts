import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  constants,
  type Http2SecureServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { isGrpc } from '../grpc.js';
import { checkH2Head, refusalText } from '../request-checks.js';

/**
 * An HTTP/2 request seen through the part of IncomingMessage core's proxy uses, straight from
 * node:http2's stream API: no compat-layer Http2ServerRequest (a second Readable per request).
 * The stream itself is the body source.
 */
export class H2Request {
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

/** The response side of one stream, with the part of ServerResponse the proxy uses. */
export class H2Response extends EventEmitter {
  statusCode = 200;
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
  writeHead(
    status: number,
    headers?: Record<string, string | number | readonly string[]> | readonly string[],
  ): this {
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
   * A proxied head: `end` answers with the head alone (END_STREAM on HEADERS: a gRPC
   * trailers-only response); `trailers` keeps the stream open after the body for trailers
   * (sendTrailers / end), as gRPC needs.
   */
  respond(status: number, headers: OutgoingHttpHeaders, opts: { end?: boolean; trailers?: boolean }): void {
    const s = this.stream;
    this.statusCode = status;
    if (s.headersSent || s.destroyed || s.closed) return;
    headers[':status'] = status;
    const waitForTrailers = opts.trailers === true && opts.end !== true;
    if (waitForTrailers) {
      this.awaitingTrailers = true;
      s.once('wantTrailers', () => {
        this.awaitingTrailers = false;
        s.sendTrailers(this.trailers ?? {});
      });
    }
    s.respond(headers, { endStream: opts.end === true, waitForTrailers });
  }

  /** true while the stream waits for trailers: endWithTrailers can still send some. */
  get trailersPending(): boolean {
    return this.awaitingTrailers && !this.stream.destroyed;
  }

  /** Ends the body; the trailers go out when the head asked for them (respond with trailers). */
  endWithTrailers(trailers: OutgoingHttpHeaders | undefined): void {
    this.trailers = trailers;
    if (!this.stream.destroyed) this.stream.end();
  }

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
  handler: (req: IncomingMessage, res: ServerResponse) => void,
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
      handler(req as unknown as IncomingMessage, new H2Response(stream) as unknown as ServerResponse);
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
