import { type IncomingMessage, Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpLimits {
  /** largest request head in bytes; larger -> 431 */
  maxHeaderSize: number;
  /** time to receive a complete request head (slowloris guard); exceeded -> 408 */
  headerTimeout: number;
  /** time to receive a whole request including its body */
  requestTimeout: number;
  /** keep-alive idle time before the connection is closed */
  idleTimeout: number;
  /** request body bytes held for one request before its client is paused (lean server; 64 KiB) */
  bodyHighWater?: number;
  /** bytes/s a request body must average over each headerTimeout window; 0 none (lean server) */
  minBodyRate?: number;
  /** request body bytes the whole process may hold for clients (lean server; 64 MiB) */
  bufferBudget?: number;
}

/** The request each node:http socket is answering, and its response, if any. */
const inFlight = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();

/** What a malformed or abusive client got, for metrics. */
export type ClientErrorKind =
  | 'header_too_large'
  | 'timeout'
  | 'slow_body'
  | 'bad_request'
  | 'unsupported'
  | 'not_allowed'
  | 'reset';

/**
 * Sets the limits every HTTP front end shares and answers parse errors before they reach the
 * proxy: Node's llhttp parser rejects conflicting Content-Length / Transfer-Encoding, invalid
 * chunking and obs-fold, so smuggling attempts end here with 400 and are never forwarded.
 */
export function applyHttpLimits(
  server: Server,
  limits: HttpLimits,
  onClientError?: (kind: ClientErrorKind) => void,
): void {
  server.headersTimeout = limits.headerTimeout;
  server.requestTimeout = limits.requestTimeout;
  server.keepAliveTimeout = limits.idleTimeout;
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? '';
    const kind: ClientErrorKind =
      code === 'HPE_HEADER_OVERFLOW'
        ? 'header_too_large'
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT'
          ? 'timeout'
          : code === 'ECONNRESET'
            ? 'reset'
            : 'bad_request';
    onClientError?.(kind);
    const pending = inFlight.get(socket);
    if (pending?.req.complete && socket.writable) {
      // bad bytes after a complete request (pipelined): its answer goes first, then the error
      pending.res.once('finish', () => socket.end(clientErrorAnswer(kind)));
      pending.res.once('close', () => {
        if (!pending.res.writableFinished) socket.destroy();
      });
      return;
    }
    // A response already on its way cannot be replaced; one not started yet (the request head
    // was fine, its body was not: invalid chunking) still gets its 400.
    if (!socket.writable || pending?.res.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorAnswer(kind));
  });
}

/** The whole response (then close) for a client that sent something we refuse. */
export function clientErrorAnswer(kind: ClientErrorKind): string {
  const status =
    kind === 'header_too_large'
      ? '431 Request Header Fields Too Large'
      : kind === 'timeout' || kind === 'slow_body'
        ? '408 Request Timeout'
        : kind === 'unsupported'
          ? '501 Not Implemented'
          : kind === 'not_allowed'
            ? '405 Method Not Allowed'
            : '400 Bad Request';
  const body = `${status}\n`;
  return `HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * node:http with core's limits: header size (431), header timeout (408), parse errors and
 * smuggling attempts answered 400 before any handler sees them.
 */
export class LimitedHttpServer extends Server {
  constructor(
    limits: HttpLimits,
    handler: (req: IncomingMessage, res: ServerResponse) => void,
    onClientError?: (kind: ClientErrorKind) => void,
    /** which Upgrade requests are upgrades ('upgrade' event); the others are served as requests */
    shouldUpgrade?: (req: IncomingMessage) => boolean,
  ) {
    super(
      {
        maxHeaderSize: limits.maxHeaderSize,
        requireHostHeader: false,
        joinDuplicateHeaders: false,
        ...(shouldUpgrade ? { shouldUpgradeCallback: shouldUpgrade } : {}),
      },
      (req, res) => {
        // the response in flight on this socket, for clientError (node:http keeps it only privately)
        const entry = { req, res };
        inFlight.set(req.socket, entry);
        res.once('close', () => {
          if (inFlight.get(req.socket) === entry) inFlight.delete(req.socket);
        });
        handler(req, res);
      },
    );
    applyHttpLimits(this, limits, onClientError);
  }
}

export function createHttpServer(
  limits: HttpLimits,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  onClientError?: (kind: ClientErrorKind) => void,
): Server {
  return new LimitedHttpServer(limits, handler, onClientError);
}
