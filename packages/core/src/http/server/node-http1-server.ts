import { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { proxiedResponseHeaders } from '../forward-headers.js';
import {
  type ClientErrorKind,
  clientErrorAnswer,
  type HttpLimits,
  LimitedHttpServer,
} from '../http-server.js';
import { rawHeader } from '../llhttp.js';
import type { HeaderInput, ProxiedHeadOptions, ProxyRequest } from '../proxy-contract.js';
import { checkHttp1Head, type HeadVerdict, originForm, refusalText } from '../request-checks.js';
import type { HttpFront, LeanHttp1Handler, LeanResponse } from './http1-server.js';
import type { PreparedResponse } from './prepared-response.js';

const H2C = /(?:^|,)\s*h2c\s*(?:,|$)/i;

/**
 * The HTTP/1.1 front end on node:http, for a process where the llhttp fast path is not live
 * (a Node whose private binding changed, or DDS_FAST_PATHS_OFF=llhttp): the same contract as the
 * lean server (ProxyRequest / ProxyResponse, 'upgrade' with a ProxyRequest, setLimits, accept,
 * closeIdleConnections), the same request checks and minimum body rate, node:http's own strict
 * parser and limits (header size, header and request timeouts). A body waiting for an upstream
 * is held by node:http's Readable up to its high-water mark (16 KiB) instead of the lean
 * server's --body-high-water, and is not counted in --buffer-budget; responses are written as
 * node:http writes them.
 */
export class NodeHttp1Server extends LimitedHttpServer implements HttpFront {
  private minBodyRate = 0;
  private window = 10_000;
  /** request bodies being received, for the minimum body rate */
  private readonly bodies = new Map<IncomingMessage, { res: ServerResponse; bytes: number; since: number }>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    limits: HttpLimits,
    handler: LeanHttp1Handler,
    private readonly onClientError?: (kind: ClientErrorKind) => void,
  ) {
    super(limits, (req, res) => this.serve(handler, req, res), onClientError, tunnelCandidate);
    this.setLimits(limits);
    // an Expect other than 100-continue: node:http would answer 417 itself, past the checks and
    // without stopping the connection; the lean server serves it as any request
    this.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
      this.emit('request', req, res),
    );
  }

  setLimits(l: HttpLimits): void {
    this.headersTimeout = l.headerTimeout;
    this.requestTimeout = l.requestTimeout;
    this.keepAliveTimeout = l.idleTimeout;
    this.minBodyRate = l.minBodyRate ?? this.minBodyRate;
    this.window = l.headerTimeout > 0 ? l.headerTimeout : 10_000;
  }

  /**
   * The minimum body rate, as the lean server applies it: while the proxy reads a body (it
   * flows), the client must bring minBodyRate bytes a second over each window, or it gets 408
   * and the connection closes (the upstream request, cut short, never completes). Measured on
   * the socket's bytes, so nothing is read on the proxy's behalf.
   */
  private watchBody(msg: IncomingMessage, res: ServerResponse): void {
    if (this.minBodyRate <= 0 || msg.complete) return;
    const h = msg.headers;
    if (
      (h['content-length'] === undefined || h['content-length'] === '0') &&
      h['transfer-encoding'] === undefined
    )
      return;
    this.bodies.set(msg, { res, bytes: msg.socket.bytesRead, since: performance.now() });
    msg.once('end', () => this.bodies.delete(msg));
    msg.once('close', () => this.bodies.delete(msg));
    this.sweeper ??= setInterval(() => this.sweep(), 250).unref();
  }

  private sweep(): void {
    if (this.bodies.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    const now = performance.now();
    for (const [msg, b] of this.bodies) {
      const read = msg.socket.bytesRead;
      if (msg.readableFlowing !== true) {
        b.bytes = read;
        b.since = now;
        continue;
      }
      const elapsed = now - b.since;
      if (elapsed < this.window) continue;
      if (read - b.bytes < (this.minBodyRate * elapsed) / 1000) {
        this.bodies.delete(msg);
        this.onClientError?.('slow_body');
        if (!b.res.headersSent) msg.socket.end(clientErrorAnswer('slow_body'));
        msg.socket.destroySoon();
        msg.destroy();
        continue;
      }
      b.bytes = read;
      b.since = now;
    }
  }

  /** Serves HTTP/1.1 on a connected socket (a TLS socket after its handshake). */
  accept(socket: Socket): void {
    this.emit('connection', socket);
  }

  /**
   * node:http hands over pipelined requests as it parses them; like the lean server, one request
   * per connection is served at a time (the next when the previous response is done), so
   * pipelining cannot multiply what one connection asks of the upstream.
   */
  private serve(handler: LeanHttp1Handler, msg: IncomingMessage, res: ServerResponse): void {
    const socket = msg.socket;
    const run = () => {
      res.once('close', () => {
        const next = turns.get(socket)?.shift();
        if (next) next();
        else turns.delete(socket);
      });
      this.serveNow(handler, msg, res);
    };
    const queue = turns.get(socket);
    if (queue) queue.push(run);
    else {
      turns.set(socket, []);
      run();
    }
  }

  private serveNow(handler: LeanHttp1Handler, msg: IncomingMessage, res: ServerResponse): void {
    // node:http parses pipelined requests ahead: nothing after a refused request, or after an
    // Upgrade request served as a plain one, is served (the connection closes after it)
    if (stopped.has(msg.socket)) return;
    const url = this.checked(msg);
    if (typeof url === 'number') {
      stopped.add(msg.socket);
      refuse(res, url);
      this.onClientError?.(url === 501 ? 'unsupported' : url === 405 ? 'not_allowed' : 'bad_request');
      return;
    }
    if (msg.headers.upgrade !== undefined && /\bupgrade\b/i.test(String(msg.headers.connection ?? ''))) {
      // an upgrade not tunnelled (h2c, or with a body): served as plain HTTP, then the connection closes
      stopped.add(msg.socket);
      res.shouldKeepAlive = false;
    }
    this.watchBody(msg, res);
    handler(new NodeRequest(msg, url), new NodeResponse(res));
  }

  /** The request checks the lean server runs; the target in origin form, or the refusal status. */
  private checked(msg: IncomingMessage): string | HeadVerdict {
    const verdict = checkHttp1Head(msg.method ?? 'GET', msg.rawHeaders, msg.httpVersionMinor);
    if (verdict !== 0) return verdict;
    const url = msg.url ?? '/';
    if (url.charCodeAt(0) === 47 /* '/' */ || url === '*') return url;
    return originForm(url, rawHeader(msg.rawHeaders, 'host')) ?? 400;
  }

  /**
   * node:http emits 'upgrade' (only for tunnel candidates, see tunnelCandidate) with its
   * IncomingMessage: listeners get a checked ProxyRequest instead, or the refusal.
   */
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  override emit(event: string | symbol, ...args: any[]): boolean {
    if (event !== 'upgrade') return super.emit(event as string, ...args);
    const [msg, socket, head] = args as [IncomingMessage, Socket, Buffer];
    const url = this.checked(msg);
    if (typeof url === 'number') {
      const body = refusalText(url);
      socket.end(
        `HTTP/1.1 ${url} ${STATUS_CODES[url]}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
      );
      return true;
    }
    return super.emit('upgrade', new NodeRequest(msg, url), socket, head);
  }
}

/** Connections on which nothing more is served. */
const stopped = new WeakSet<Socket>();
/** Per connection being served: the pipelined requests waiting for their turn. */
const turns = new WeakMap<Socket, (() => void)[]>();

/**
 * An Upgrade request the proxy may tunnel (the lean server's rule): not h2c, no body. Others are
 * served as plain requests (node:http's 'request'), then the connection closes.
 */
function tunnelCandidate(msg: IncomingMessage): boolean {
  const h = msg.headers;
  if (H2C.test(h.upgrade ?? '')) return false;
  return (
    (h['content-length'] === undefined || h['content-length'] === '0') && h['transfer-encoding'] === undefined
  );
}

function refuse(res: ServerResponse, status: HeadVerdict): void {
  const body = refusalText(status);
  res.shouldKeepAlive = false;
  res.writeHead(status, ['content-type', 'text/plain', 'content-length', String(body.length)]);
  res.end(body);
}

/** node:http's request as a ProxyRequest. */
class NodeRequest implements ProxyRequest {
  readonly bodyless = false;

  constructor(
    private readonly msg: IncomingMessage,
    readonly url: string,
  ) {}

  get method(): string {
    return this.msg.method ?? 'GET';
  }
  get httpVersionMajor(): number {
    return this.msg.httpVersionMajor;
  }
  get httpVersionMinor(): number {
    return this.msg.httpVersionMinor;
  }
  get rawHeaders(): string[] {
    return this.msg.rawHeaders;
  }
  get headers(): IncomingHttpHeaders {
    return this.msg.headers;
  }
  get socket(): Socket {
    return this.msg.socket;
  }

  on(event: string, listener: (chunk: Buffer) => void): this {
    this.msg.on(event, listener);
    return this;
  }
  removeListener(event: string, listener: (chunk: Buffer) => void): this {
    this.msg.removeListener(event, listener);
    return this;
  }
  pause(): this {
    this.msg.pause();
    return this;
  }
  resume(): this {
    this.msg.resume();
    return this;
  }
}

/** node:http's response as the lean server's (ProxyResponse and endPrepared). */
class NodeResponse implements LeanResponse {
  /** node:http writes as it goes */
  deferFlush = false;
  readonly trailersPending = false;

  constructor(private readonly res: ServerResponse) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }
  get destroyed(): boolean {
    return this.res.destroyed;
  }
  get shouldKeepAlive(): boolean {
    return this.res.shouldKeepAlive;
  }
  set shouldKeepAlive(v: boolean) {
    this.res.shouldKeepAlive = v;
  }

  writeHead(status: number, headers?: HeaderInput): this {
    if (!this.res.headersSent)
      this.res.writeHead(status, headers as Parameters<ServerResponse['writeHead']>[1]);
    return this;
  }

  writeProxiedHead(
    status: number,
    headers: string[],
    extra: readonly string[] | undefined,
    opts?: ProxiedHeadOptions,
  ): void {
    this.res.writeHead(status, proxiedResponseHeaders(headers, extra));
    if (opts?.complete === true) this.res.end();
  }

  write(chunk: Buffer | string): boolean {
    return this.res.write(chunk);
  }

  flush(): void {}

  end(chunk?: Buffer | string): this {
    this.res.end(chunk);
    return this;
  }

  /** HTTP/1.1: the proxy drops trailers */
  endWithTrailers(_trailers: readonly string[] | undefined): void {
    this.res.end();
  }

  reset(_code: number): void {
    this.res.destroy();
  }

  destroy(): void {
    this.res.destroy();
  }

  endPrepared(p: PreparedResponse): this {
    this.res.writeHead(p.status, [...p.headers, 'content-length', String(p.body.length)]);
    this.res.end(p.body);
    return this;
  }

  /** The listener is called on this response (the proxy's listeners find their handler through `this`). */
  on(event: 'close' | 'drain', listener: (this: NodeResponse) => void): this {
    this.res.on(event, () => listener.call(this));
    return this;
  }
}
