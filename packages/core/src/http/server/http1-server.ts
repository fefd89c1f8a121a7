import { Server as NetServer, type Socket } from 'node:net';
import { parserBinding } from '../../internals/http-parser.js';
import { adoptSocket, probeSocketAdoption, replaceAcceptedSockets } from '../../internals/socket-adoption.js';
import { setBufferBudget } from '../buffer-budget.js';
import type { ClientErrorKind, HttpLimits } from '../http-server.js';
import type { ProxyRequest, ProxyResponse } from '../proxy-contract.js';
import { type ConnectionHost, Http1Connection } from './http1-connection.js';
import type { Http1Request } from './http1-request.js';
import type { Http1Response } from './http1-response.js';
import { NodeHttp1Server } from './node-http1-server.js';
import type { PreparedResponse } from './prepared-response.js';

/** What the HTTP/1.1 front end's handlers answer through: the proxy's ProxyResponse, and endPrepared. */
export interface LeanResponse extends ProxyResponse {
  /** The whole response from prepared bytes; nothing may have been written before. */
  endPrepared(p: PreparedResponse): unknown;
}

/** A handler of the HTTP/1.1 front end (a ProxyHandlerFn is one). */
export type LeanHttp1Handler = (req: ProxyRequest, res: LeanResponse) => void;

/**
 * The HTTP/1.1 front end as the rest of core sees it: the lean server, or node:http's (see
 * node-http1-server.ts) when the llhttp fast path is not live. 'upgrade' listeners get a
 * ProxyRequest, the socket and the bytes after the head.
 */
export interface HttpFront extends NetServer {
  /** Applies reloadable limits at once (maxHeaderSize is fixed at creation). */
  setLimits(limits: HttpLimits): void;
  /** Serves HTTP/1.1 on a connected socket (TLS after its handshake). */
  accept(socket: Socket): void;
  /** Closes every connection that is not answering a request (drain). */
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

/**
 * A lean HTTP/1.1 server for the proxying components, in place of node:http on the hot path:
 * raw sockets, Node's strict llhttp parser, no IncomingMessage / ServerResponse streams, each
 * response written as one string. It keeps node:http's contract where components rely on it:
 * 'connection' and 'upgrade' events, headersTimeout / requestTimeout / keepAliveTimeout (settable
 * on reload), closeIdleConnections() for drain, 400 / 408 / 431 answers to bad clients.
 * TLS listeners hand their HTTP/1.1 sockets to accept().
 */
export class Http1Server extends NetServer implements ConnectionHost, HttpFront {
  readonly maxHeaderSize: number;
  bodyHighWater: number;
  minBodyRate: number;
  private timeouts: { headers: number; request: number; keepAlive: number };
  private readonly conns = new Set<Http1Connection>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    limits: HttpLimits,
    private readonly handler: LeanHttp1Handler,
    private readonly onClientError?: (kind: ClientErrorKind) => void,
  ) {
    // accepted paused: plain sockets are adopted to read with `onread` (replaceAcceptedSockets)
    super({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true });
    if (parserBinding() === undefined)
      throw new Error("the lean HTTP/1.1 server needs Node's llhttp binding (createHttp1Server falls back)");
    this.maxHeaderSize = limits.maxHeaderSize;
    this.bodyHighWater = limits.bodyHighWater ?? 64 * 1024;
    this.minBodyRate = limits.minBodyRate ?? 0;
    if (limits.bufferBudget !== undefined) setBufferBudget(limits.bufferBudget);
    this.timeouts = {
      headers: limits.headerTimeout,
      request: limits.requestTimeout,
      keepAlive: limits.idleTimeout,
    };
    this.on('close', () => this.stopSweeper());
    // accepted TCP sockets move to sockets that read into the process's shared buffer, and
    // 'connection' listeners (drain tracking, connection limits) see those
    replaceAcceptedSockets(this, (accepted) => {
      let conn: Http1Connection | undefined;
      const socket = adoptSocket(accepted, (n, buf) => conn?.readShared(n, buf), true);
      socket.setNoDelay(true);
      conn = this.serve(socket, true); // reads come through the callback, adopted or not
      return socket;
    });
    this.on('listening', () => probeSocketAdoption(this));
  }

  // Settable on reload, like node:http's; the sweep follows the new values at once.
  get headersTimeout(): number {
    return this.timeouts.headers;
  }
  set headersTimeout(ms: number) {
    this.setTimeouts({ ...this.timeouts, headers: ms });
  }
  get requestTimeout(): number {
    return this.timeouts.request;
  }
  set requestTimeout(ms: number) {
    this.setTimeouts({ ...this.timeouts, request: ms });
  }
  get keepAliveTimeout(): number {
    return this.timeouts.keepAlive;
  }
  set keepAliveTimeout(ms: number) {
    this.setTimeouts({ ...this.timeouts, keepAlive: ms });
  }

  /** Applies reloadable limits at once (maxHeaderSize is fixed at creation). */
  setLimits(limits: HttpLimits): void {
    this.bodyHighWater = limits.bodyHighWater ?? this.bodyHighWater;
    this.minBodyRate = limits.minBodyRate ?? this.minBodyRate;
    if (limits.bufferBudget !== undefined) setBufferBudget(limits.bufferBudget);
    this.setTimeouts({
      headers: limits.headerTimeout,
      request: limits.requestTimeout,
      keepAlive: limits.idleTimeout,
    });
  }

  private setTimeouts(t: { headers: number; request: number; keepAlive: number }): void {
    this.timeouts = t;
    if (this.sweeper === undefined) return;
    this.stopSweeper();
    this.sweeper = this.startSweeper();
  }

  /** Serves HTTP/1.1 on a connected socket that reads with 'data' events (TLS after its handshake). */
  accept(socket: Socket): void {
    this.serve(socket, false);
  }

  private serve(socket: Socket, shared: boolean): Http1Connection {
    const conn = new Http1Connection(socket, this, shared);
    this.conns.add(conn);
    this.sweeper ??= this.startSweeper();
    return conn;
  }

  dispatch(req: Http1Request, res: Http1Response): void {
    try {
      this.handler(req, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, ['content-type', 'text/plain', 'content-length', '22']);
      if (!res.writableEnded) res.end('internal server error\n');
      process.emitWarning(err as Error);
    }
  }

  upgrade(req: Http1Request, socket: Socket, head: Buffer): boolean {
    if (this.listenerCount('upgrade') === 0) return false;
    this.emit('upgrade', req, socket, head);
    return true;
  }

  clientError(kind: ClientErrorKind): void {
    this.onClientError?.(kind);
  }

  forget(conn: Http1Connection): void {
    this.conns.delete(conn);
    if (this.conns.size === 0) this.stopSweeper();
  }

  /** Closes every connection that is not answering a request. */
  closeIdleConnections(): void {
    for (const c of this.conns) c.closeIfIdle();
  }

  closeAllConnections(): void {
    for (const c of this.conns) c.destroy();
  }

  /** One interval for all connections, at a fraction of the shortest timeout (0 is none). */
  private startSweeper(): NodeJS.Timeout {
    const t = this.timeouts;
    // no timeout set: Infinity, and the sweep runs once a second
    const shortest = Math.min(...[t.headers, t.request, t.keepAlive].filter((ms) => ms > 0));
    const every = Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
    const timer = setInterval(() => {
      const now = performance.now();
      for (const c of this.conns) c.checkTimeouts(now);
    }, every);
    timer.unref();
    return timer;
  }

  private stopSweeper(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/**
 * The HTTP/1.1 front end: the lean server when Node's llhttp binding is usable (the llhttp fast
 * path), else node:http's server with the same contract.
 */
export function createHttp1Server(
  limits: HttpLimits,
  handler: LeanHttp1Handler,
  onClientError?: (kind: ClientErrorKind) => void,
): HttpFront {
  if (parserBinding() === undefined) return new NodeHttp1Server(limits, handler, onClientError);
  return new Http1Server(limits, handler, onClientError);
}
