import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { AccessLog } from '../access-log/access-log.js';
import {
  clientFraming,
  type ForwardOptions,
  isHopByHopResponse,
  isHopByHopResponseName,
  upstreamHeaders,
} from './forward-headers.js';
import { H2Request } from './server/h2-stream.js';
import { Http1Request } from './server/http1-request.js';
import { Http1Response } from './server/http1-response.js';
import type { Upstream } from './upstream.js';
import {
  BodyFraming,
  type BodySource,
  type ExchangeControl,
  PoolBusyError,
  type UpstreamExchange,
} from './upstream-pool/exchange.js';

/** Why a proxied request ended without an upstream response. */
export type ProxyFailure = 'upstream_error' | 'upstream_timeout' | 'upstream_busy' | 'client_abort';

export interface ProxyHooks extends ForwardOptions {
  /** extra request headers for this request, flat [name, value, ...] */
  requestHeaders?(req: IncomingMessage): readonly string[] | undefined;
  /** extra response headers for this request, flat [name, value, ...] */
  responseHeaders?(req: IncomingMessage): readonly string[] | undefined;
  /** called once per request when it ends */
  onDone?(
    req: IncomingMessage,
    status: number,
    seconds: number,
    failure: ProxyFailure | undefined,
    upstream: Upstream,
  ): void;
  /**
   * called when the upstream fails before any response byte was sent; return true to take over
   * `res` (e.g. retry on another upstream), and no 502/504 is written nor onDone called
   */
  onUpstreamFailure?(
    req: IncomingMessage,
    res: ServerResponse,
    failure: ProxyFailure,
    upstream: Upstream,
  ): boolean;
  /** while true, responses close their connection so clients move elsewhere */
  draining(): boolean;
  /** writes one access record per request that ends (when enabled) */
  accessLog?: AccessLog;
  /** more access-record attributes for this request, JSON members with leading commas */
  accessAttributes?(req: IncomingMessage): string;
}

type Res = ServerResponse | (ServerResponse & { stream?: unknown });
type H2Message = IncomingMessage & { stream: { endAfterHeaders: boolean } };

const kHandler = Symbol('dds.proxyHandler');
type TaggedRes = Res & { [kHandler]?: ProxyHandler };

// What undici checks on request headers and paths; the HTTP/1 parser in front already enforced
// it on what clients send, so only hook-supplied headers (and HTTP/2 input) are checked here.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const BAD_PATH = /[^\u0021-\u00ff]/;

/**
 * The hot path shared by every HTTP component: forwards one request to an upstream and streams
 * the response back with back-pressure, mapping failures to 502/504. Plain-text upstreams use
 * core's own keep-alive HTTP/1.1 pool (request head written as one string, response framing
 * parsed by Node's llhttp); https upstreams use undici's low-level dispatch. Clients come from
 * the lean HTTP/1.1 server (Http1Request / Http1Response) or node:http / node:http2.
 */
export function proxyRequest(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  hooks: ProxyHooks,
): void {
  if (upstream.http1 === undefined && upstream.pool === undefined) {
    // an https upstream whose client (undici) is still loading: only the first requests wait
    const later = () => {
      if (upstream.pool !== undefined) proxyRequest(req, res, upstream, hooks);
      else new ProxyHandler(req, res, upstream, hooks).onFail(false, new Error('upstream closed'));
    };
    void (upstream.loading ?? Promise.resolve()).then(later, later);
    return;
  }
  const handler = new ProxyHandler(req, res, upstream, hooks);
  const headers = upstreamHeaders(req, hooks);
  const extra = hooks.requestHeaders?.(req);
  // framing from what the front end parsed: a verified length, or chunked re-encoding
  const length = clientFraming.contentLength;
  const framing: BodyFraming =
    req.httpVersionMajor === 2
      ? (req as H2Message).stream.endAfterHeaders
        ? BodyFraming.None
        : length !== undefined
          ? BodyFraming.Length
          : BodyFraming.Chunked
      : length !== undefined
        ? length !== '0'
          ? BodyFraming.Length
          : BodyFraming.None
        : clientFraming.chunked
          ? BodyFraming.Chunked
          : BodyFraming.None;
  const http1 = upstream.http1;
  if (http1 !== undefined) {
    const head = requestHead(
      req,
      headers,
      extra,
      length,
      framing,
      clientFraming.host === undefined ? (upstream.hostHeader ?? 'localhost') : undefined,
    );
    handler.body = framing === BodyFraming.None ? null : req;
    handler.framing = framing;
    if (framing === BodyFraming.Length) handler.bodyLength = Number(length);
    handler.headOnly = req.method === 'HEAD';
    if (head === undefined) {
      handler.onFail(false, new Error('invalid request header or path for the upstream'));
      return;
    }
    handler.head = head;
    http1.request(handler);
    return;
  }
  if (extra) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
  if (length !== undefined) headers.push('content-length', length);
  upstream.pool!.dispatch(
    {
      method: req.method as Dispatcher.HttpMethod,
      path: req.url!,
      headers,
      body:
        framing === BodyFraming.None
          ? null
          : req instanceof Http1Request
            ? readableBody(req)
            : req instanceof H2Request
              ? req.stream
              : req,
      upgrade: null,
    },
    handler as unknown as Dispatcher.DispatchHandler,
  );
}

/** The lean request's body as a stream, for undici (https upstreams). */
function readableBody(req: Http1Request): Readable {
  const out = new Readable({ read: () => void req.resume() });
  req.on('data', (chunk: Buffer) => {
    if (!out.push(chunk)) req.pause();
  });
  req.on('end', () => out.push(null));
  req.on('close', () => {
    if (!req.complete) out.destroy(new Error('request body cut short'));
  });
  return out;
}

/**
 * Request line and headers as one string, framing written by the proxy; undefined if a header or
 * the path cannot be sent. `hostHeader` is the Host for a request that came without one.
 */
function requestHead(
  req: IncomingMessage,
  headers: string[],
  extra: readonly string[] | undefined,
  length: string | undefined,
  framing: BodyFraming,
  hostHeader: string | undefined,
): string | undefined {
  const path = req.url!;
  const h2 = req.httpVersionMajor === 2;
  if (h2 && (BAD_PATH.test(path) || !TOKEN.test(req.method!))) return undefined;
  let head = `${req.method} ${path} HTTP/1.1\r\n`;
  if (hostHeader !== undefined) head += `host: ${hostHeader}\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (h2 && (!TOKEN.test(name) || BAD_VALUE.test(value))) return undefined;
    head += `${name}: ${value}\r\n`;
  }
  if (extra) {
    for (let i = 0; i < extra.length; i += 2) {
      const name = extra[i]!;
      const value = extra[i + 1]!;
      if (!TOKEN.test(name) || BAD_VALUE.test(value)) return undefined;
      head += `${name}: ${value}\r\n`;
    }
  }
  if (length !== undefined) head += `content-length: ${length}\r\n`;
  else if (framing === BodyFraming.Chunked) head += 'transfer-encoding: chunked\r\n';
  return `${head}connection: keep-alive\r\n\r\n`;
}

// Listeners shared by every response (no closure per request); `this` is the ServerResponse.
function onClientClose(this: TaggedRes): void {
  this[kHandler]?.clientClosed();
}
function onClientDrain(this: TaggedRes): void {
  this[kHandler]?.control?.resume();
}

/** Receives one upstream response: from core's HTTP/1 pool (UpstreamExchange) or undici. */
class ProxyHandler implements UpstreamExchange {
  head = '';
  body: BodySource | null = null;
  framing: BodyFraming = BodyFraming.None;
  bodyLength = -1;
  headOnly = false;
  control: ExchangeControl | undefined = undefined;
  private readonly started = performance.now();
  private finished = false;
  private reported = false;
  private drainHooked = false;
  private status = 0;
  /** response body bytes passed to the client */
  private sent = 0;
  /** the response when the client came through the lean HTTP/1.1 server */
  private readonly lean: Http1Response | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: Res,
    private readonly upstream: Upstream,
    private readonly hooks: ProxyHooks,
  ) {
    (res as TaggedRes)[kHandler] = this;
    res.on('close', onClientClose);
    const lean = res as unknown;
    this.lean = lean instanceof Http1Response ? lean : undefined;
    // the lean server's response is written once per upstream read (see readDone)
    if (this.lean) this.lean.deferFlush = true;
  }

  get abandoned(): boolean {
    return this.finished;
  }

  clientClosed(): void {
    if (this.finished) return;
    this.finished = true;
    this.control?.abort();
    this.done(499, 'client_abort');
  }

  attach(control: ExchangeControl): void {
    this.control = control;
  }

  onHead(statusCode: number, headers: string[]): void {
    this.status = statusCode;
    const res = this.res;
    this.closeIfDraining();
    const extra = this.hooks.responseHeaders?.(this.req);
    if (this.lean) {
      this.lean.writeProxiedHead(statusCode, headers, extra);
      return;
    }
    if (this.req.httpVersionMajor === 2) {
      const obj: Record<string, string | string[]> = {};
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i]!.toLowerCase();
        if (isHopByHopResponse(name)) continue;
        const v = headers[i + 1]!;
        const prev = obj[name];
        obj[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      if (extra) for (let i = 0; i < extra.length; i += 2) obj[extra[i]!.toLowerCase()] = extra[i + 1]!;
      res.writeHead(statusCode, obj);
      return;
    }
    // compacted in place: the array is this response's own
    let n = 0;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (isHopByHopResponseName(name)) continue;
      headers[n++] = name;
      headers[n++] = headers[i + 1]!;
    }
    headers.length = n;
    if (extra) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
    res.writeHead(statusCode, headers);
  }

  /** A chunk from core's pool (a view of its read buffer: node:http's response keeps a copy). */
  onBody(chunk: Buffer): boolean {
    return this.forward(this.lean ? chunk : Buffer.from(chunk));
  }

  readDone(): void {
    if (this.lean && !this.finished) this.lean.flush();
  }

  private forward(chunk: Buffer): boolean {
    this.sent += chunk.length;
    if (this.res.write(chunk)) return true;
    if (!this.drainHooked) {
      this.drainHooked = true;
      this.res.on('drain', onClientDrain);
    }
    return false;
  }

  onEnd(): void {
    this.finished = true;
    this.res.end();
    this.done(this.status, undefined);
  }

  onFail(timeout: boolean, err: Error): void {
    if (this.finished) return;
    this.finished = true;
    const res = this.res;
    const busy = err instanceof PoolBusyError;
    const failure = busy ? 'upstream_busy' : timeout ? 'upstream_timeout' : 'upstream_error';
    if (!res.headersSent && !res.destroyed) {
      if (this.hooks.onUpstreamFailure?.(this.req, res as ServerResponse, failure, this.upstream)) {
        this.reported = true;
        return;
      }
      this.closeIfDraining();
      const status = busy ? 503 : timeout ? 504 : 502;
      const body = busy ? 'upstream busy\n' : timeout ? 'upstream timed out\n' : 'upstream unavailable\n';
      const head = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(body.length)];
      if (busy) head.push('retry-after', '1');
      res.writeHead(status, head);
      res.end(body);
      this.sent = body.length;
      this.done(status, failure);
    } else {
      res.destroy();
      this.done(this.status || 502, failure);
    }
  }

  // undici's DispatchHandler (legacy callbacks), used for https upstreams

  onConnect(abort: (err?: Error) => void): void {
    this.control = { resume: () => {}, abort: () => abort(new Error('client closed')) };
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx interim responses are not forwarded
    const control = this.control;
    if (control) control.resume = resume;
    const headers: string[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) headers[i] = raw[i]!.toString('latin1');
    this.onHead(statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const more = this.forward(chunk);
    this.readDone();
    return more;
  }

  onComplete(): void {
    this.onEnd();
  }

  onError(err: Error & { code?: string }): void {
    const timeout =
      err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
      err.code === 'UND_ERR_CONNECT_TIMEOUT' ||
      err.code === 'UND_ERR_BODY_TIMEOUT';
    this.onFail(timeout, err);
  }

  /** While draining, HTTP/1.1 responses close their connection so clients move elsewhere. */
  private closeIfDraining(): void {
    if (this.req.httpVersionMajor !== 2 && this.hooks.draining()) this.res.shouldKeepAlive = false;
  }

  private done(status: number, failure: ProxyFailure | undefined): void {
    if (this.reported) return;
    this.reported = true;
    const seconds = (performance.now() - this.started) / 1000;
    const hooks = this.hooks;
    hooks.onDone?.(this.req, status, seconds, failure, this.upstream);
    const log = hooks.accessLog;
    if (log?.enabled)
      log.log(
        this.req,
        status,
        seconds,
        this.sent,
        failure,
        hooks.accessAttributes?.(this.req),
        hooks.trusted,
      );
  }
}
