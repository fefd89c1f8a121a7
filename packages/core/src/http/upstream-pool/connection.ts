import { connect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { READ_BUFFER } from '../../net/read-buffer.js';
import { bodyChunksOwned } from '../llhttp.js';
import type { BodySource } from '../proxy-contract.js';
import { BodyFraming, type TransportControl, type TransportExchange } from '../transport.js';
import type { Http1Pool } from './pool.js';
import { http1Head } from './request-head.js';
import { createResponseParser, type NativeParser, type ResponseSink } from './response-parser.js';

export enum Phase {
  Idle = 0,
  Connecting = 1,
  /** request sent, waiting for the response head (headers timeout) */
  Head = 2,
  /** reading the response body (body timeout between chunks) */
  Body = 3,
  Closed = 4,
}

const CRLF = '\r\n';

const LAST_CHUNK = '0\r\n\r\n';
const KEEP_ALIVE_TIMEOUT = /timeout\s*=\s*(\d+)/i;

/**
 * One keep-alive HTTP/1.1 connection to the upstream, serving one request at a time: the head
 * goes out as one string, the response is parsed by Node's llhttp and streamed to the exchange.
 * Any framing doubt (parse error, bytes nobody asked for, a body cut short) closes the socket.
 */
export class UpstreamConnection implements ResponseSink, TransportControl {
  readonly socket: Socket;
  private readonly parser: NativeParser;
  /** llhttp hands over body chunks it copied out of the shared read buffer (probed at start) */
  private readonly owned = bodyChunksOwned();
  phase: Phase = Phase.Connecting;
  /** pool clock when the current phase started or the body last moved */
  since: number;
  /** requests sent on this connection so far */
  served = 0;
  private ex: TransportExchange | null = null;
  private finalHead = false;
  private keepAlive = false;
  private requestDone = true;
  private completed = false;
  private unsolicited = false;
  private gotBytes = false;
  private reading = true;
  /** how long this connection may sit idle before it is closed (ms) */
  idleLimit: number;
  /** how long the current request may wait for its response head (ms; 0 none) */
  headLimit = 0;

  constructor(private readonly pool: Http1Pool) {
    const t = pool.target;
    this.since = pool.now;
    this.idleLimit = pool.keepAliveTimeout;
    const onread = { buffer: READ_BUFFER, callback: (n: number, buf: Buffer) => this.onData(buf, n) };
    this.socket =
      'path' in t
        ? connect({ path: t.path, onread })
        : t.tls
          ? // tls.connect takes onread too (not in @types/node): reads land in the same shared buffer
            tlsConnect({ port: t.port, host: t.host, onread, ...t.tls() } as ConnectionOptions)
          : connect({ port: t.port, host: t.host, onread });
    this.socket.setNoDelay(true);
    this.socket.setKeepAlive(true, 60_000);
    this.parser = createResponseParser(this, pool.maxHeaderSize);
    this.socket.on('path' in t || !t.tls ? 'connect' : 'secureConnect', () => this.onConnect());
    this.socket.on('end', () => this.onEndOfInput());
    this.socket.on('error', (err) => this.fail(false, err));
    this.socket.on('close', () => {
      this.fail(false, new Error('upstream closed the connection'));
      this.parser.close(); // 'close' comes after any parser call: free the native parser now
    });
    this.socket.on('drain', () => this.ex?.body?.resume());
  }

  /** Takes a request: sends it now, or once connected. */
  send(ex: TransportExchange): void {
    this.ex = ex;
    this.finalHead = false;
    this.completed = false;
    this.gotBytes = false;
    ex.onRequestStart(this);
    if (this.phase === Phase.Connecting) return;
    this.write(ex);
  }

  private onConnect(): void {
    if (this.phase !== Phase.Connecting) return;
    const ex = this.ex;
    if (ex) this.write(ex);
    else this.pool.release(this);
  }

  private write(ex: TransportExchange): void {
    this.phase = Phase.Head;
    this.since = this.pool.now;
    this.headLimit = ex.headersTimeout ?? this.pool.headersTimeout;
    this.served++;
    const head = http1Head(ex);
    if (ex.body !== null && ex.framing !== BodyFraming.None) {
      this.pumpBody(ex, head, ex.body, ex.framing === BodyFraming.Chunked);
    } else {
      this.requestDone = true;
      this.socket.write(head, 'latin1');
    }
  }

  /**
   * Streams the request body with back-pressure. The head goes out with the first body bytes
   * (as undici does): a body the client's parser rejects (bad chunking) sends nothing upstream.
   */
  private pumpBody(ex: TransportExchange, head: string, body: BodySource, chunked: boolean): void {
    this.requestDone = false;
    const s = this.socket;
    let headSent = false;
    // the length the head declares is what goes out, whatever the body source does (defence in
    // depth: llhttp and nghttp2 already hold bodies to their length)
    const sized = ex.framing === BodyFraming.Length;
    let left = sized ? Number(ex.length) : -1;
    const onData = (chunk: Buffer) => {
      if (this.ex !== ex || chunk.length === 0) return;
      if (sized) left -= chunk.length;
      if (sized && left < 0) {
        cleanup();
        this.fail(false, new Error('request body longer than its Content-Length'));
        return;
      }
      this.since = this.pool.now;
      s.cork();
      if (!headSent) {
        headSent = true;
        s.write(head, 'latin1');
      }
      if (chunked) s.write(chunk.length.toString(16) + CRLF, 'latin1');
      s.write(chunk);
      if (chunked) s.write(CRLF, 'latin1');
      s.uncork();
      if (s.writableNeedDrain) body.pause();
    };
    const onEnd = () => {
      cleanup();
      if (this.ex !== ex) return;
      if (sized && left > 0) {
        this.fail(false, new Error('request body shorter than its Content-Length'));
        return;
      }
      this.since = this.pool.now;
      if (!headSent) s.write(head, 'latin1');
      if (chunked) s.write(LAST_CHUNK, 'latin1');
      this.requestDone = true;
      // a response that finished before its request body did waited for this
      if (this.completed) this.afterResponse();
    };
    const onClose = () => {
      cleanup();
      if (this.ex === ex && !this.requestDone) this.destroy(); // client body cut short
    };
    const cleanup = () => {
      body.removeListener('data', onData);
      body.removeListener('end', onEnd);
      body.removeListener('close', onClose);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('close', onClose);
  }

  /** false stops reading (back-pressure from the client) */
  private onData(buf: Buffer, n: number): boolean {
    if (this.ex === null || this.phase === Phase.Closed) {
      this.destroy(); // bytes nobody asked for: never let them answer the next request
      return false;
    }
    this.gotBytes = true;
    this.reading = true;
    const ex = this.ex;
    const r = this.parser.execute(n === buf.length ? buf : buf.subarray(0, n));
    if (typeof r !== 'number') {
      this.fail(false, r);
      return false;
    }
    ex.onReadDone?.();
    if (this.unsolicited) this.destroy();
    else if (this.completed) this.afterResponse();
    return this.reading;
  }

  /** Upstream half-closed: ends a close-delimited body, or the response was cut short. */
  private onEndOfInput(): void {
    if (this.ex !== null && this.phase !== Phase.Closed) {
      const r = this.parser.finish();
      if (r !== undefined) {
        this.fail(false, r);
        return;
      }
      if (this.completed) this.afterResponse();
    }
    this.destroy();
  }

  onResponseBegin(): void {
    if (this.ex === null || this.finalHead) this.unsolicited = true;
  }

  onResponseHead(status: number, headers: string[], keepAlive: boolean, upgrade: boolean): number {
    const ex = this.ex;
    if (ex === null || this.unsolicited) return 1;
    if (status < 200) {
      if (upgrade) {
        this.unsolicited = true; // 101 to a request that asked for no upgrade
        return 1;
      }
      this.since = this.pool.now;
      return 1; // interim responses are not forwarded; the final one follows
    }
    this.finalHead = true;
    this.keepAlive = keepAlive && !upgrade;
    if (this.keepAlive) this.honourKeepAliveHint(headers);
    this.phase = Phase.Body;
    this.since = this.pool.now;
    ex.onResponseStart(status, headers);
    return ex.headOnly ? 1 : 0;
  }

  /**
   * `Keep-Alive: timeout=N` (Node servers send 5 s): stop reusing the connection a second
   * before the upstream would close it, so a request is not sent into a closing socket.
   */
  private honourKeepAliveHint(headers: string[]): void {
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      if (name.length !== 10 || name.toLowerCase() !== 'keep-alive') continue;
      const m = KEEP_ALIVE_TIMEOUT.exec(headers[i + 1]!);
      if (m === null) return;
      const ms = Number(m[1]) * 1000 - 1000;
      if (ms <= 0) this.keepAlive = false;
      else if (ms < this.idleLimit) this.idleLimit = ms;
      return;
    }
  }

  onResponseBody(chunk: Buffer): void {
    const ex = this.ex;
    if (ex === null || this.unsolicited) return;
    this.since = this.pool.now;
    // llhttp's chunk is a copy out of the shared read buffer (probed): the handler may keep it
    if (!ex.onResponseData(this.owned ? chunk : Buffer.from(chunk))) {
      this.reading = false;
      this.socket.pause();
    }
  }

  onResponseEnd(): void {
    const ex = this.ex;
    if (ex === null || this.unsolicited || !this.finalHead) return;
    this.completed = true;
    ex.onResponseEnd();
  }

  /** After a complete response: back to the pool if both directions are done. */
  private afterResponse(): void {
    if (!this.requestDone) {
      // the upstream answered early: keep reading nothing more, wait for the body to finish
      if (!this.keepAlive) this.destroy();
      return;
    }
    this.ex = null;
    this.completed = false;
    if (!this.keepAlive) {
      this.destroy();
      return;
    }
    this.phase = Phase.Idle;
    this.since = this.pool.now;
    this.socket.resume();
    this.pool.release(this);
  }

  resume(): void {
    if (this.phase !== Phase.Closed) this.socket.resume();
  }

  abort(): void {
    this.ex = null;
    this.destroy();
  }

  /** Timeout from the pool's clock. */
  timeout(): void {
    const err = new Error(this.phase === Phase.Connecting ? 'upstream connect timeout' : 'upstream timeout');
    this.fail(true, err);
  }

  private fail(timeout: boolean, err: Error): void {
    const ex = this.ex;
    const wasReused = this.served > 1;
    const headSeen = this.finalHead || this.gotBytes;
    const done = this.completed;
    this.ex = null;
    this.destroy();
    if (ex === null || done) return;
    // a kept-alive socket the upstream closed just as we reused it: nothing was processed
    if (!timeout && wasReused && !headSeen && ex.body === null && this.pool.retry(ex)) return;
    ex.onResponseError(err, timeout);
  }

  destroy(): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.socket.destroy();
    this.pool.remove(this);
  }
}
