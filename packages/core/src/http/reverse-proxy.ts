import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { type ForwardOptions, isHopByHopResponse, upstreamHeaders } from './forward-headers.js';
import type { Upstream } from './upstream.js';

/** Why a proxied request ended without an upstream response. */
export type ProxyFailure = 'upstream_error' | 'upstream_timeout' | 'client_abort';

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
}

type Res = ServerResponse | (ServerResponse & { stream?: unknown });

/**
 * The hot path shared by every HTTP component: forwards one request to an upstream pool with
 * undici's low-level dispatch (no stream wrappers, no per-chunk promises), writes the response
 * head in one call and the body with back-pressure, and maps failures to 502/504.
 */
export function proxyRequest(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  hooks: ProxyHooks,
): void {
  const handler = new ProxyHandler(req, res, upstream, hooks);
  const headers = upstreamHeaders(req, hooks);
  const extra = hooks.requestHeaders?.(req);
  if (extra) for (let i = 0; i < extra.length; i++) headers.push(extra[i]!);
  const h2 = req.httpVersionMajor === 2;
  const hasBody = h2
    ? !(req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders
    : req.headers['content-length'] !== undefined
      ? req.headers['content-length'] !== '0'
      : req.headers['transfer-encoding'] !== undefined;
  if (hooks.draining() && !h2) res.shouldKeepAlive = false;
  upstream.pool.dispatch(
    {
      method: req.method as Dispatcher.HttpMethod,
      path: req.url!,
      headers,
      body: hasBody ? req : null,
      upgrade: null,
    },
    handler as unknown as Dispatcher.DispatchHandler,
  );
}

class ProxyHandler {
  private readonly started = process.hrtime.bigint();
  private abortUpstream: ((err?: Error) => void) | undefined;
  private finished = false;
  private status = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: Res,
    private readonly upstream: Upstream,
    private readonly hooks: ProxyHooks,
  ) {
    res.once('close', () => {
      if (!this.finished) {
        this.abortUpstream?.(new Error('client closed'));
        this.done(499, 'client_abort');
      }
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx interim responses are not forwarded
    this.status = statusCode;
    const res = this.res;
    const h2 = this.req.httpVersionMajor === 2;
    const extra = this.hooks.responseHeaders?.(this.req);
    if (h2) {
      const obj: Record<string, string | string[]> = {};
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toString('latin1').toLowerCase();
        if (isHopByHopResponse(name)) continue;
        const v = raw[i + 1]!.toString('latin1');
        const prev = obj[name];
        obj[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      if (extra) for (let i = 0; i < extra.length; i += 2) obj[extra[i]!.toLowerCase()] = extra[i + 1]!;
      res.writeHead(statusCode, obj);
    } else {
      const flat: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toString('latin1');
        if (isHopByHopResponse(name.toLowerCase())) continue;
        flat.push(name, raw[i + 1]!.toString('latin1'));
      }
      if (extra) for (let i = 0; i < extra.length; i++) flat.push(extra[i]!);
      res.writeHead(statusCode, flat);
    }
    res.on('drain', resume);
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  onComplete(): void {
    this.finished = true;
    this.res.end();
    this.done(this.status, undefined);
  }

  onError(err: Error & { code?: string }): void {
    if (this.finished) return;
    this.finished = true;
    const timeout =
      err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
      err.code === 'UND_ERR_CONNECT_TIMEOUT' ||
      err.code === 'UND_ERR_BODY_TIMEOUT';
    const res = this.res;
    if (!res.headersSent && !res.destroyed) {
      const failure = timeout ? 'upstream_timeout' : 'upstream_error';
      if (this.hooks.onUpstreamFailure?.(this.req, res as ServerResponse, failure, this.upstream)) {
        this.reported = true;
        return;
      }
      const status = timeout ? 504 : 502;
      const body = timeout ? 'upstream timed out\n' : 'upstream unavailable\n';
      res.writeHead(status, [
        'content-type',
        'text/plain; charset=utf-8',
        'content-length',
        String(body.length),
      ]);
      res.end(body);
      this.done(status, timeout ? 'upstream_timeout' : 'upstream_error');
    } else {
      res.destroy();
      this.done(this.status || 502, timeout ? 'upstream_timeout' : 'upstream_error');
    }
  }

  private reported = false;
  private done(status: number, failure: ProxyFailure | undefined): void {
    if (this.reported) return;
    this.reported = true;
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    this.hooks.onDone?.(this.req, status, seconds, failure, this.upstream);
  }
}
