import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { proxiedResponseHeaders } from './forward-headers.js';
import type {
  BodySource,
  HeaderInput,
  ProxiedHeadOptions,
  ProxyHandlerFn,
  ProxyRequest,
  ProxyResponse,
} from './proxy-contract.js';
import { httpDate } from './server/http-date.js';
import { headerObject } from './server/http1-request.js';
import { flatten } from './server/http1-response.js';
import { BodyFraming, type Transport, type TransportControl, type TransportExchange } from './transport.js';
import { refusedByHttp1 } from './upstream-pool/request-head.js';

/**
 * The `internal:<component>` upstream of dds-pod: the exchange a component's proxy decided on is
 * handed to the next component's request handler in the same process, with no socket between
 * them. The next component sees exactly what it would have parsed from core's HTTP/1.1 pool over
 * loopback (the same head, in the same order: Host, the end-to-end headers and the proxy's
 * forwarding headers, the hooks' headers, the verified framing), from a peer at 127.0.0.1; its
 * answer comes back through the TransportHandler calls a socket transport makes, within the
 * sender's headers timeout (its upstream-timeout). What the hop does not carry: WebSocket upgrades
 * (answered 502 by the skeleton) and the body timeout between chunks (the last hop's, to the app,
 * applies).
 */

const INTERNAL = 'internal:';

/** The request handlers of the HTTP components running in this process, by component name. */
const handlers = new Map<string, ProxyHandlerFn>();

/**
 * Makes a component reachable as `internal:<name>`; returns the function that withdraws it (a
 * later registration under the same name, a reload's, stays).
 */
export function serveInternal(name: string, handler: ProxyHandlerFn): () => void {
  handlers.set(name, handler);
  return () => {
    if (handlers.get(name) === handler) handlers.delete(name);
  };
}

/** The component an `internal:` upstream URL names, or undefined for any other URL. */
export function internalTarget(url: string): string | undefined {
  return url.startsWith(INTERNAL) ? url.slice(INTERNAL.length) : undefined;
}

/** Every `internal:` upstream in a config: [the field's dotted path, the component it names]. */
export function internalReferences(config: unknown, path = ''): [string, string][] {
  if (typeof config === 'string') {
    const t = internalTarget(config);
    return t === undefined ? [] : [[path, t]];
  }
  if (typeof config !== 'object' || config === null) return [];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(config))
    out.push(...internalReferences(v, path === '' ? k : `${path}.${k}`));
  return out;
}

/** The peer the next component sees: loopback, as from core's pool (no TLS: the hop is plain). */
const LOOPBACK_PEER = Object.freeze({
  remoteAddress: '127.0.0.1',
  remoteFamily: 'IPv4',
  remotePort: 0,
  localAddress: '127.0.0.1',
  localPort: 0,
  encrypted: undefined,
  destroyed: false,
}) as unknown as Socket;

export class InternalTransport implements Transport {
  private closed = false;

  /** `headersTimeout`: ms the next component may take for its answer's head (the sender's upstream-timeout) */
  constructor(
    readonly target: string,
    private readonly headersTimeout = 60_000,
  ) {}

  request(ex: TransportExchange): void {
    if (ex.abandoned) return;
    // the same refusals as core's HTTP/1.1 pools: the hop is HTTP/1.1 in all but the socket
    if (refusedByHttp1(ex, this.closed)) return;
    const handler = handlers.get(this.target);
    if (handler === undefined)
      ex.onResponseError(
        Object.assign(new Error(`internal:${this.target} is not running`), { code: 'ECONNREFUSED' }),
        false,
      );
    else this.dispatch(ex, handler);
  }

  private dispatch(ex: TransportExchange, handler: ProxyHandlerFn): void {
    const res = new InternalResponse(ex, ex.headersTimeout ?? this.headersTimeout);
    ex.onRequestStart(res);
    handler(new InternalRequest(ex), res);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The request as the next component receives it: what core's pool would have written. */
class InternalRequest implements ProxyRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersionMajor = 1;
  readonly httpVersionMinor = 1;
  readonly rawHeaders: string[];
  readonly socket = LOOPBACK_PEER;
  readonly bodyless = false;
  private parsed: IncomingHttpHeaders | undefined;
  private readonly body: BodySource | null;
  private ended = false;

  constructor(ex: TransportExchange) {
    this.method = ex.method;
    this.url = ex.path;
    const raw: string[] = [];
    if (ex.defaultHost !== undefined) raw.push('host', ex.defaultHost);
    for (const h of ex.headers) raw.push(h);
    if (ex.extra !== undefined) for (const h of ex.extra) raw.push(h);
    if (ex.length !== undefined) raw.push('content-length', ex.length);
    else if (ex.framing === BodyFraming.Chunked) raw.push('transfer-encoding', 'chunked');
    raw.push('connection', 'keep-alive');
    this.rawHeaders = raw;
    this.body = ex.framing === BodyFraming.None ? null : ex.body;
  }

  get headers(): IncomingHttpHeaders {
    this.parsed ??= headerObject(this.rawHeaders);
    return this.parsed;
  }

  // the body is the sender's request body, read through (its flow control is the sender's)
  on(event: string, listener: (chunk: Buffer) => void): this {
    if (this.body !== null) this.body.on(event, listener);
    else if (event === 'end' && !this.ended) {
      this.ended = true;
      queueMicrotask(listener as () => void);
    }
    return this;
  }

  removeListener(event: string, listener: (chunk: Buffer) => void): this {
    this.body?.removeListener(event, listener);
    return this;
  }

  pause(): this {
    this.body?.pause();
    return this;
  }

  resume(): this {
    this.body?.resume();
    return this;
  }
}

/**
 * The next component's answer, passed to the sender's handler as a transport passes an upstream
 * response: the head as the next component's HTTP/1.1 server would write it (hop-by-hop fields
 * out, Date added), the body with back-pressure (write() returns the sender's verdict and 'drain'
 * follows its resume()), trailers dropped as HTTP/1.1 drops them. Also the sender's
 * TransportControl: abort() is the sender's client going away.
 */
class InternalResponse extends EventEmitter implements ProxyResponse, TransportControl {
  headersSent = false;
  destroyed = false;
  shouldKeepAlive = true;
  deferFlush = false;
  readonly trailersPending = false;
  private finished = false;
  private readonly noBody: boolean;
  private status = 200;
  private head: string[] = [];
  private headPending = false;
  private headTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ex: TransportExchange,
    headLimit: number,
  ) {
    super();
    this.noBody = ex.headOnly;
    // as the pool's headers timeout: no head in time, the sender answers 504 and the next
    // component sees its client go away
    if (headLimit > 0) this.headTimer = setTimeout(headTimedOut, headLimit, this);
  }

  headTimedOut(): void {
    if (this.finished || this.headTimer === undefined) return;
    this.abort();
    this.ex.onResponseError(Object.assign(new Error('upstream timeout'), { code: 'ETIMEDOUT' }), true);
  }

  private stopHeadTimer(): void {
    if (this.headTimer !== undefined) clearTimeout(this.headTimer);
    this.headTimer = undefined;
  }

  // TransportControl (the sender's side)
  resume(): void {
    if (!this.finished) this.emit('drain');
  }

  abort(): void {
    if (this.finished) return;
    this.stopHeadTimer();
    this.finished = true;
    this.destroyed = true;
    this.emit('close');
  }

  // ProxyResponse (the next component's side)
  writeHead(status: number, headers?: HeaderInput): this {
    this.setHead(status, flatHead(headers));
    return this;
  }

  writeProxiedHead(
    status: number,
    headers: string[],
    extra: readonly string[] | undefined,
    opts?: ProxiedHeadOptions,
  ): void {
    this.setHead(status, proxiedResponseHeaders(headers, extra));
    if (opts?.complete === true) this.end();
  }

  write(chunk: Buffer | string): boolean {
    if (this.finished) return false;
    this.sendHead();
    if (this.noBody || chunk.length === 0) return true;
    return this.ex.onResponseData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }

  flush(): void {
    if (!this.finished) this.ex.onReadDone?.();
  }

  end(chunk?: Buffer | string): this {
    if (this.finished) return this;
    if (chunk !== undefined) this.write(chunk);
    this.sendHead();
    this.finished = true;
    this.ex.onResponseEnd();
    this.emit('close');
    return this;
  }

  endWithTrailers(_trailers: readonly string[] | undefined): void {
    this.end(); // HTTP/1.1 between the two: trailers do not pass, as over the loopback pool
  }

  reset(_code: number): void {
    this.destroy();
  }

  destroy(): void {
    if (this.finished) return;
    this.stopHeadTimer();
    this.finished = true;
    this.destroyed = true;
    this.ex.onResponseError(
      Object.assign(new Error('upstream closed the connection'), { code: 'ECONNRESET' }),
      false,
    );
    this.emit('close');
  }

  private setHead(status: number, headers: string[]): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.status = status;
    let date = false;
    const out: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const lower = headers[i]!.toLowerCase();
      if (lower === 'transfer-encoding' || lower === 'connection' || lower === 'keep-alive') continue;
      if (lower === 'date') date = true;
      out.push(headers[i]!, headers[i + 1]!);
    }
    if (!date) out.push('date', httpDate());
    this.head = out;
    this.headPending = true;
  }

  private sendHead(): void {
    if (!this.headersSent) this.setHead(this.status, []);
    if (!this.headPending) return;
    this.headPending = false;
    this.stopHeadTimer();
    this.ex.onResponseStart(this.status, this.head);
  }
}

function headTimedOut(res: InternalResponse): void {
  res.headTimedOut();
}

function flatHead(h: HeaderInput | undefined): string[] {
  if (h === undefined) return [];
  if (Array.isArray(h)) return [...h];
  return flatten(h as Record<string, string | number | readonly string[] | undefined>);
}
