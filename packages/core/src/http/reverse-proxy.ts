import { type AccessLog, accessAttr } from '../access-log/access-log.js';
import { clientFraming, type ForwardOptions, upstreamHeaders } from './forward-headers.js';
import { GrpcStatus, grpcAnswer, grpcStatusOfReset, grpcTimeoutMs, isGrpc } from './grpc.js';
import { rawHeader } from './llhttp.js';
import type { ProxiedHeadOptions, ProxyRequest, ProxyResponse } from './proxy-contract.js';
import { BodyFraming, PoolBusyError, type TransportControl, type TransportExchange } from './transport.js';
import type { Upstream } from './upstream.js';

/** Why a proxied request ended without an upstream response. */
export type ProxyFailure = 'upstream_error' | 'upstream_timeout' | 'upstream_busy' | 'client_abort';

export interface ProxyHooks extends ForwardOptions {
  /** extra request headers for this request, flat [name, value, ...] */
  requestHeaders?(req: ProxyRequest): readonly string[] | undefined;
  /** extra response headers for this request, flat [name, value, ...] */
  responseHeaders?(req: ProxyRequest): readonly string[] | undefined;
  /** called once per request when it ends */
  onDone?(
    req: ProxyRequest,
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
    req: ProxyRequest,
    res: ProxyResponse,
    failure: ProxyFailure,
    upstream: Upstream,
  ): boolean;
  /** the upstream failed this request (refused, TLS, timeout, reset): for logs; not on the hot path */
  onUpstreamError?(req: ProxyRequest, err: Error & { code?: string }, upstream: Upstream): void;
  /** while true, responses close their connection so clients move elsewhere */
  draining(): boolean;
  /** writes one access record per request that ends (when enabled) */
  accessLog?: AccessLog;
  /** more access-record attributes for this request, JSON members with leading commas */
  accessAttributes?(req: ProxyRequest): string;
}

const kHandler = Symbol('dds.proxyHandler');
// head options, shared (no object per request)
const COMPLETE: ProxiedHeadOptions = { complete: true };
const WITH_TRAILERS: ProxiedHeadOptions = { trailers: true };
type TaggedRes = ProxyResponse & { [kHandler]?: ProxyHandler };

/**
 * The hot path shared by every HTTP component: forwards one request to an upstream and streams
 * the response back with back-pressure, mapping failures to 502/503/504 (gRPC calls get a gRPC
 * status instead). What to send is decided here once; how it is written is the upstream's
 * Transport's: core's keep-alive HTTP/1.1 pool (plain text, unix socket or TLS) or HTTP/2 (h2c,
 * or TLS by ALPN), which also carries trailers, resets and flow control end to end. Clients come
 * through a front end's ProxyRequest / ProxyResponse (proxy-contract.ts): the lean HTTP/1.1
 * server or HTTP/2 streams.
 */
export function proxyRequest(
  req: ProxyRequest,
  res: ProxyResponse,
  upstream: Upstream,
  hooks: ProxyHooks,
): void {
  const transport = upstream.transport;
  if (transport === undefined) {
    // an HTTP/2 or https upstream whose client is still loading: only the first requests wait
    const later = () => {
      if (upstream.transport !== undefined) proxyRequest(req, res, upstream, hooks);
      else new ProxyHandler(req, res, upstream, hooks).onResponseError(new Error('upstream closed'), false);
    };
    void (upstream.loading ?? Promise.resolve()).then(later, later);
    return;
  }
  const ex = new ProxyHandler(req, res, upstream, hooks);
  ex.headers = upstreamHeaders(req, hooks);
  ex.extra = hooks.requestHeaders?.(req);
  // framing from what the front end parsed: a verified length, or chunked re-encoding
  const length = clientFraming.contentLength;
  const h2 = req.httpVersionMajor === 2;
  const framing: BodyFraming = h2
    ? req.bodyless
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
  ex.framing = framing;
  ex.length = length;
  ex.body = framing === BodyFraming.None ? null : req;
  ex.defaultHost = clientFraming.host === undefined ? (upstream.hostHeader ?? 'localhost') : undefined;
  if (h2) {
    ex.fromH2 = true;
    if (isGrpc(req.headers['content-type'])) ex.grpcCall(rawHeader(req.rawHeaders, 'grpc-timeout'));
    else ex.trailers = /\btrailers\b/i.test(rawHeader(req.rawHeaders, 'te') ?? '');
  }
  transport.request(ex);
}

// Listeners shared by every response (no closure per request); `this` is the ProxyResponse.
function onClientClose(this: TaggedRes): void {
  this[kHandler]?.clientClosed();
}
function onClientDrain(this: TaggedRes): void {
  this[kHandler]?.control?.resume();
}
function onDeadline(this: ProxyHandler): void {
  this.deadlineExpired();
}

/** One proxied exchange: the request the transport sends, and the receiver of its response. */
class ProxyHandler implements TransportExchange {
  // the request, as the proxy decided it (TransportRequest)
  readonly method: string;
  readonly path: string;
  headers: readonly string[] = [];
  extra: readonly string[] | undefined = undefined;
  defaultHost: string | undefined = undefined;
  body: ProxyRequest | null = null;
  framing: BodyFraming = BodyFraming.None;
  length: string | undefined = undefined;
  readonly headOnly: boolean;
  fromH2 = false;
  trailers = false;
  headersTimeout: number | undefined = undefined;

  control: TransportControl | undefined = undefined;
  private readonly started = performance.now();
  private finished = false;
  private reported = false;
  private drainHooked = false;
  private status = 0;
  /** response body bytes passed to the client */
  private sent = 0;
  /** a gRPC call: failures are answered with a gRPC status */
  private grpc = false;
  /** the grpc-status the call ended with (-1 unknown), for the access log */
  private grpcStatus = -1;
  private deadline: NodeJS.Timeout | undefined = undefined;
  private deadlineHit = false;

  constructor(
    private readonly req: ProxyRequest,
    private readonly res: ProxyResponse,
    private readonly upstream: Upstream,
    private readonly hooks: ProxyHooks,
  ) {
    this.method = req.method;
    this.path = req.url;
    this.headOnly = req.method === 'HEAD';
    (res as TaggedRes)[kHandler] = this;
    res.on('close', onClientClose);
    // what one upstream read gives goes out as one write (see onReadDone)
    res.deferFlush = true;
  }

  get abandoned(): boolean {
    return this.finished;
  }

  /**
   * A gRPC call: trailers asked for, no response-head timeout (streams may be long), and the
   * call's own deadline (grpc-timeout) enforced here: when it passes, the upstream stream is
   * cancelled and the client gets DEADLINE_EXCEEDED.
   */
  grpcCall(timeout: string | undefined): void {
    this.grpc = true;
    this.trailers = true;
    this.headersTimeout = 0;
    const ms = grpcTimeoutMs(timeout);
    if (ms !== undefined) this.deadline = setTimeout(onDeadline.bind(this), ms);
  }

  deadlineExpired(): void {
    if (this.finished) return;
    this.deadlineHit = true;
    this.control?.abort();
    this.onResponseError(Object.assign(new Error('deadline exceeded'), { code: 'ETIMEDOUT' }), true);
  }

  clientClosed(): void {
    if (this.finished) return;
    this.finished = true;
    this.control?.abort();
    this.done(499, 'client_abort');
  }

  onRequestStart(control: TransportControl): void {
    this.control = control;
  }

  onResponseStart(statusCode: number, headers: string[], complete?: boolean): void {
    this.status = statusCode;
    this.closeIfDraining();
    const extra = this.hooks.responseHeaders?.(this.req);
    if (complete === true) {
      // the response ends with its head: the client's close that follows is no abort
      this.finished = true;
      if (this.grpc) this.noteGrpcStatus(rawHeader(headers, 'grpc-status'));
      this.res.writeProxiedHead(statusCode, headers, extra, COMPLETE);
      this.done(statusCode, undefined);
      return;
    }
    this.res.writeProxiedHead(statusCode, headers, extra, this.trailers ? WITH_TRAILERS : undefined);
  }

  onResponseData(chunk: Buffer): boolean {
    this.sent += chunk.length;
    if (this.res.write(chunk)) return true;
    if (!this.drainHooked) {
      this.drainHooked = true;
      this.res.on('drain', onClientDrain);
    }
    return false;
  }

  onReadDone(): void {
    if (!this.finished) this.res.flush();
  }

  onResponseEnd(trailers?: string[]): void {
    if (this.finished) return;
    this.finished = true;
    if (trailers !== undefined && trailers.length > 0) {
      if (this.grpc) this.noteGrpcStatus(rawHeader(trailers, 'grpc-status'));
      this.res.endWithTrailers(trailers);
    } else this.res.end();
    this.done(this.status, undefined);
  }

  onResponseError(err: Error & { code?: string; rstCode?: number }, timeout: boolean): void {
    if (this.finished) return;
    this.finished = true;
    const res = this.res;
    const busy = err instanceof PoolBusyError;
    const failure = busy ? 'upstream_busy' : timeout ? 'upstream_timeout' : 'upstream_error';
    const reset = err.rstCode;
    const h2 = this.req.httpVersionMajor === 2;
    // a call's own deadline passing is not the upstream's failure
    if (!busy && !this.deadlineHit) this.hooks.onUpstreamError?.(this.req, err, this.upstream);
    if (!res.headersSent && !res.destroyed) {
      if (this.hooks.onUpstreamFailure?.(this.req, res, failure, this.upstream)) {
        this.reported = true;
        this.clearDeadline();
        return;
      }
      if (h2 && reset !== undefined && !this.grpc) {
        res.reset(reset); // the upstream refused this stream: the client sees the same reset
        this.done(502, failure);
        return;
      }
      if (this.grpc) {
        // gRPC: a trailers-only answer carrying the status (HTTP 200, as gRPC requires)
        const status = this.grpcFailure(reset);
        res.writeProxiedHead(200, grpcAnswer(status, grpcText(status, err)), undefined, COMPLETE);
        this.grpcStatus = status;
        this.done(200, failure);
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
      return;
    }
    if (this.grpc && res.trailersPending) {
      // the call had started: it ends with a status in trailers instead of a bare reset
      const status = this.grpcFailure(reset);
      this.grpcStatus = status;
      const t = grpcAnswer(status, grpcText(status, err));
      res.endWithTrailers(t.slice(2)); // without content-type
    } else if (h2 && reset !== undefined) res.reset(reset);
    else res.destroy();
    this.done(this.status || 502, failure);
  }

  private grpcFailure(reset: number | undefined): number {
    if (this.deadlineHit) return GrpcStatus.DEADLINE_EXCEEDED;
    if (reset !== undefined) return grpcStatusOfReset(reset);
    return GrpcStatus.UNAVAILABLE;
  }

  private noteGrpcStatus(v: string | undefined): void {
    const n = Number(v);
    if (v !== undefined && v !== '' && Number.isInteger(n)) this.grpcStatus = n;
  }

  private clearDeadline(): void {
    if (this.deadline !== undefined) clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  /**
   * While draining, HTTP/1.1 responses close their connection so clients move elsewhere; requests
   * already received behind this one (pipelined) are answered first, the last of them closes.
   */
  private closeIfDraining(): void {
    if (this.hooks.draining() && !this.res.pipelined) this.res.shouldKeepAlive = false;
  }

  private done(status: number, failure: ProxyFailure | undefined): void {
    if (this.reported) return;
    this.reported = true;
    this.clearDeadline();
    const seconds = (performance.now() - this.started) / 1000;
    const hooks = this.hooks;
    hooks.onDone?.(this.req, status, seconds, failure, this.upstream);
    const log = hooks.accessLog;
    if (log?.enabled) {
      let extra = hooks.accessAttributes?.(this.req) ?? '';
      if (this.grpcStatus >= 0) extra += accessAttr('rpc.grpc.status_code', this.grpcStatus);
      log.log(this.req, status, seconds, this.sent, failure, extra, hooks.trusted);
    }
  }
}

/** grpc-message of a proxy failure. */
function grpcText(status: number, err: Error): string {
  if (status === GrpcStatus.DEADLINE_EXCEEDED) return 'deadline exceeded at the proxy';
  return `upstream: ${err.message}`;
}
