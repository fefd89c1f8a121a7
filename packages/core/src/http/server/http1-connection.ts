import type { Socket } from 'node:net';
import { type ClientErrorKind, clientErrorAnswer } from '../http-server.js';
import {
  bodyChunksOwned,
  completeHeaders,
  dropTrailers,
  type HeaderCollector,
  methodName,
  type NativeParser,
  rawHeader,
  strictParser,
} from '../llhttp.js';
import { checkHttp1Head, type HeadVerdict, originForm, refusalText } from '../request-checks.js';
import { type BodyFlow, Http1Request } from './http1-request.js';
import { Http1Response, type ResponseOwner } from './http1-response.js';

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly maxHeaderSize: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  /** request body bytes held for one request before its client socket is paused */
  readonly bodyHighWater: number;
  /** bytes per second a request body must average over each headersTimeout window (0: none) */
  readonly minBodyRate: number;
  dispatch(req: Http1Request, res: Http1Response): void;
  upgrade(req: Http1Request, socket: Socket, head: Buffer): boolean;
  clientError(kind: ClientErrorKind): void;
  forget(conn: Http1Connection): void;
}

export enum ConnPhase {
  /** between requests (keep-alive idle timeout) */
  Idle = 0,
  /** waiting for or reading a request head (header timeout) */
  Head = 1,
  /** a request is being answered (request timeout while its body arrives) */
  Busy = 2,
  Closed = 3,
}

type ConnParser = NativeParser & HeaderCollector & { conn: Http1Connection };

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const H2C = /(?:^|,)\s*h2c\s*(?:,|$)/i;
/** pipelined requests parsed ahead of the one being answered, at most (then reading stops) */
const MAX_QUEUED = 32;

function onMessageBegin(this: ConnParser): void {
  this.conn.messageBegin();
}
function onHeadersComplete(
  this: ConnParser,
  major: number,
  minor: number,
  headers: string[] | undefined,
  method: number,
  url: string,
  _status: unknown,
  _statusMessage: unknown,
  upgrade: boolean,
  keepAlive: boolean,
): number {
  this.conn.head(major, minor, completeHeaders(this, headers), method, url, upgrade, keepAlive);
  return 0;
}
function onBody(this: ConnParser, chunk: Buffer): void {
  this.conn.body(chunk);
}
function onMessageComplete(this: ConnParser): void {
  dropTrailers(this);
  this.conn.messageComplete();
}

/**
 * One client connection of the lean HTTP/1.1 server: a strict llhttp request parser fed from
 * socket reads, one request answered at a time (pipelined ones wait their turn, parsed ahead,
 * reading paused), body flow control from the request to the socket, timeouts checked by the
 * server's sweep instead of timers per request, and parse errors answered 400 / 431 / 408.
 */
export class Http1Connection implements ResponseOwner, BodyFlow {
  phase = ConnPhase.Head;
  /** when the current phase started (performance.now()) */
  since = performance.now();
  closed = false;
  private readonly parser: ConnParser;
  private active: Http1Response | null = null;
  /** the request whose body the parser is reading */
  private parsing: Http1Request | null = null;
  private readonly queue: Http1Response[] = [];
  get waiting(): number {
    return this.queue.length;
  }
  private upgradeReq: Http1Request | null = null;
  /** a request already answered whose body is still being read (and dropped) */
  private unread: Http1Request | null = null;
  private headStarted = false;
  private requestStart = 0;
  private bodyPaused = false;
  private queuePaused = false;
  /** the client half-closed: close after the responses it is owed */
  private ending = false;
  private broken = false;
  private upgraded = false;
  /** nothing more is parsed: a refused request, or one served in place of an upgrade */
  private stopped = false;
  /** a parse error that waits for the responses owed before it */
  private deferred: ClientErrorKind | undefined = undefined;
  /** a request that asked for an upgrade the proxy will not tunnel: served, then the connection closes */
  private lastRequest: Http1Request | null = null;
  /** body bytes received since rateSince (minimum body rate) */
  private rateBytes = 0;
  private rateSince = 0;
  private readonly onData = (chunk: Buffer) => this.read(chunk);
  /** llhttp hands over body slices it copied (probed at start) */
  private readonly owned = bodyChunksOwned();

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
    /** reads arrive in the shared READ_BUFFER (onread): body bytes that are kept are copied */
    private readonly shared = false,
  ) {
    this.parser = strictParser(
      'request',
      host.maxHeaderSize,
      { conn: this as Http1Connection },
      {
        begin: onMessageBegin,
        headersComplete: onHeadersComplete,
        body: onBody,
        complete: onMessageComplete,
      },
    );
    if (!shared) socket.on('data', this.onData);
    socket.on('end', () => this.clientEnded());
    socket.on('error', () => this.destroy());
    socket.on('drain', () => this.active?.emit('drain'));
    socket.on('close', () => this.onClose());
  }

  /** A read into the shared buffer (adopted sockets): `n` bytes, valid during this call only. */
  readShared(n: number, buf: Buffer): void {
    // after an upgrade the socket belongs to a byte pipe, which listens for 'data'
    if (this.upgraded) this.socket.emit('data', Buffer.from(buf.subarray(0, n)));
    else this.read(buf.subarray(0, n));
  }

  get bodyHighWater(): number {
    return this.host.bodyHighWater;
  }

  private read(chunk: Buffer): void {
    if (this.broken || this.closed || this.stopped) return;
    const r = this.parser.execute(chunk);
    if (typeof r !== 'number')
      this.fail(r.code === 'HPE_HEADER_OVERFLOW' ? 'header_too_large' : 'bad_request');
    else if (this.upgradeReq !== null) {
      const rest = chunk.subarray(r);
      this.takeUpgrade(this.shared ? Buffer.from(rest) : rest);
    }
  }

  messageBegin(): void {
    this.headStarted = true;
    this.requestStart = performance.now();
    if (this.phase === ConnPhase.Idle) {
      this.phase = ConnPhase.Head;
      this.since = this.requestStart;
    }
  }

  head(
    major: number,
    minor: number,
    headers: string[],
    method: number,
    url: string,
    upgrade: boolean,
    keepAlive: boolean,
  ): void {
    this.headStarted = false;
    if (this.stopped) return;
    const name = methodName(method) ?? 'GET';
    let verdict: HeadVerdict = checkHttp1Head(name, headers, minor);
    if (verdict === 0 && url.charCodeAt(0) !== 47 /* '/' */ && url !== '*') {
      // absolute-form: forwarded in origin-form, and only if it names the Host it came with
      const path = originForm(url, rawHeader(headers, 'host'));
      if (path === undefined) verdict = 400;
      else url = path;
    }
    const req = new Http1Request(this.socket, name, url, headers, major, minor, this);
    if (verdict !== 0) {
      // answered in its turn, then the connection closes; nothing after it is parsed
      this.stopped = true;
      this.socket.pause();
      req.refusal = verdict;
      this.host.clientError(
        verdict === 501 ? 'unsupported' : verdict === 405 ? 'not_allowed' : 'bad_request',
      );
      this.enqueue(new Http1Response(this, req, false));
      return;
    }
    if (upgrade) {
      const up = req.header('upgrade') ?? '';
      const length = req.header('content-length');
      if (
        !H2C.test(up) &&
        (length === undefined || length === '0') &&
        req.header('transfer-encoding') === undefined
      ) {
        // llhttp stops after this head: what follows belongs to the upgraded protocol
        this.upgradeReq = req;
        return;
      }
      // h2c, or an upgrade with a body: never tunnelled; served as plain HTTP, then closed
      this.lastRequest = req;
      keepAlive = false;
    }
    this.parsing = req;
    this.rateBytes = 0;
    this.rateSince = performance.now();
    this.enqueue(new Http1Response(this, req, keepAlive && !this.ending));
  }

  private enqueue(res: Http1Response): void {
    if (this.active === null) this.start(res);
    else {
      this.queue.push(res);
      if (!this.queuePaused) {
        this.queuePaused = true;
        this.socket.pause();
      }
      if (this.queue.length > MAX_QUEUED) this.destroy();
    }
  }

  body(chunk: Buffer): void {
    this.rateBytes += chunk.length;
    // a body slice may wait for its consumer: llhttp's slices are its own copies (probed), a
    // view of the shared read buffer would be copied
    this.parsing?.pushBody(this.shared && !this.owned ? Buffer.from(chunk) : chunk);
  }

  messageComplete(): void {
    const req = this.parsing;
    if (req === null) return;
    this.parsing = null;
    req.endBody();
    if (req === this.lastRequest) {
      this.stopped = true; // llhttp stopped at the upgrade: the bytes after it are not HTTP we parse
      this.socket.pause();
    }
    if (req === this.unread) {
      this.unread = null;
      this.next();
    }
  }

  private start(res: Http1Response): void {
    this.active = res;
    this.phase = ConnPhase.Busy;
    const req = res.req;
    if (req.refusal !== 0) {
      const body = refusalText(req.refusal as HeadVerdict);
      res.writeHead(req.refusal, ['content-type', 'text/plain', 'content-length', String(body.length)]);
      res.end(body);
      return;
    }
    if (!req.complete && req.httpVersionMinor === 1) {
      const expect = req.header('expect');
      if (expect !== undefined && expect.toLowerCase() === '100-continue') this.socket.write(CONTINUE);
    }
    this.host.dispatch(req, res);
  }

  responseDone(res: Http1Response, keepAlive: boolean): void {
    if (res !== this.active || this.closed) return;
    this.active = null;
    res.closed();
    if (!keepAlive || (this.broken && this.deferred === undefined)) {
      this.phase = ConnPhase.Closed;
      this.socket.end();
      return;
    }
    const req = res.req;
    if (this.deferred !== undefined && this.queue.length === 0) {
      // the requests parsed before the bad bytes are answered: now the error, then close
      this.phase = ConnPhase.Closed;
      this.socket.end(clientErrorAnswer(this.deferred));
      return;
    }
    if (req.complete) this.next();
    else {
      // answered before its body was read (or before the parser finished the message): the
      // rest of the body is read and dropped, then the next request is served
      req.dump();
      this.unread = req;
      this.resumeBody();
    }
  }

  /** Serves the next pipelined request, or waits for one. */
  private next(): void {
    this.resumeBody(); // a pause of the finished request's body must not hold the next one
    const next = this.queue.shift();
    if (next !== undefined) {
      if (this.queue.length === 0) this.resumeQueue();
      this.start(next);
      return;
    }
    this.resumeQueue();
    if (this.ending) {
      this.phase = ConnPhase.Closed;
      this.socket.end();
      return;
    }
    this.phase = this.headStarted ? ConnPhase.Head : ConnPhase.Idle;
    this.since = this.headStarted ? this.requestStart : performance.now();
  }

  pauseBody(): void {
    if (this.bodyPaused) return;
    this.bodyPaused = true;
    this.socket.pause();
  }

  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    if (!this.queuePaused) this.socket.resume();
  }

  private resumeQueue(): void {
    if (!this.queuePaused) return;
    this.queuePaused = false;
    if (!this.bodyPaused) this.socket.resume();
  }

  /** Half-close from the client: answer what was asked, then close. */
  private clientEnded(): void {
    this.ending = true;
    if (this.parsing !== null || this.headStarted) {
      this.fail('bad_request'); // a request cut short: 400, as node:http answers it
      return;
    }
    if (this.active === null && this.queue.length === 0) this.socket.end();
  }

  /** A request the client cannot complete: answer it (if nothing was sent yet) and close. */
  fail(kind: ClientErrorKind): void {
    if (this.broken || this.closed) return;
    this.broken = true;
    this.host.clientError(kind);
    const parsing = this.parsing;
    parsing?.closed(); // a body cut short: whoever streams it stops
    this.parsing = null;
    if (this.active?.req.complete && (kind === 'bad_request' || kind === 'header_too_large')) {
      // bad bytes after complete requests: those are answered first, in order (their upstream
      // saw them), then the error; a queued request whose body was cut short is dropped
      this.deferred = kind;
      this.stopped = true;
      this.socket.pause();
      if (parsing !== null) {
        const i = this.queue.findIndex((r) => r.req === parsing);
        if (i >= 0) this.queue.splice(i, 1)[0]!.closed();
      }
      return;
    }
    const res = this.active;
    this.active = null;
    res?.closed();
    if (res?.headersSent || !this.socket.writable) {
      this.destroy();
      return;
    }
    this.phase = ConnPhase.Closed;
    this.socket.end(clientErrorAnswer(kind));
  }

  /** Called by the server's sweep: enforces the header, request and idle timeouts (0: none). */
  checkTimeouts(now: number): void {
    const h = this.host;
    if (this.phase === ConnPhase.Head) {
      if (h.headersTimeout > 0 && now - this.since > h.headersTimeout) this.fail('timeout');
    } else if (this.phase === ConnPhase.Idle) {
      if (h.keepAliveTimeout > 0 && now - this.since > h.keepAliveTimeout) this.destroy();
    } else if (this.phase === ConnPhase.Busy && h.requestTimeout > 0) {
      const req = this.active?.req ?? this.unread;
      if (req != null && !req.complete && now - this.requestStart > h.requestTimeout) {
        this.fail('timeout');
        return;
      }
    }
    if (this.parsing !== null && h.minBodyRate > 0) this.checkBodyRate(now, h.minBodyRate, h.headersTimeout);
  }

  /**
   * A body must bring minBodyRate bytes a second, averaged over each window (the header timeout,
   * or 10 s without one); windows in which the proxy itself paused reading do not count.
   */
  private checkBodyRate(now: number, rate: number, window: number): void {
    if (this.bodyPaused || this.queuePaused) {
      this.rateSince = now;
      this.rateBytes = 0;
      return;
    }
    const elapsed = now - this.rateSince;
    if (elapsed < (window > 0 ? window : 10_000)) return;
    if (this.rateBytes < (rate * elapsed) / 1000) {
      this.fail('slow_body');
      return;
    }
    this.rateSince = now;
    this.rateBytes = 0;
  }

  /** Closes the connection if it is not answering a request (drain, closeIdleConnections). */
  closeIfIdle(): void {
    if (this.phase === ConnPhase.Idle || (this.phase === ConnPhase.Head && !this.headStarted)) this.destroy();
  }

  private takeUpgrade(head: Buffer): void {
    const req = this.upgradeReq!;
    this.upgradeReq = null;
    if (this.active !== null) {
      this.destroy(); // an upgrade pipelined behind a request: refused
      return;
    }
    this.detach();
    if (!this.host.upgrade(req, this.socket, head))
      this.socket.end('HTTP/1.1 501 Not Implemented\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  }

  /** The socket now belongs to someone else (an upgraded protocol). */
  private detach(): void {
    this.upgraded = true;
    this.closed = true;
    this.phase = ConnPhase.Closed;
    this.socket.removeListener('data', this.onData);
    this.socket.removeAllListeners('end');
    this.host.forget(this);
    this.parser.close();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.phase = ConnPhase.Closed;
    this.host.forget(this);
    const parsing = this.parsing;
    this.parsing = null;
    if (parsing !== null) parsing.closed();
    const active = this.active;
    this.active = null;
    if (active !== null) {
      if (active.req !== parsing) active.req.closed();
      active.closed();
    }
    for (const res of this.queue) {
      if (res.req !== parsing) res.req.closed();
      res.closed();
    }
    this.queue.length = 0;
    this.parser.close();
  }
}
