import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import { readDirect } from '@dds/core/internals/socket-reader';
import { SocketWriter } from '@dds/core/internals/socket-writer';
import { READ_BUFFER } from '@dds/core/net/read-buffer';
import { sniFor } from '../config/pool-tls.js';
import { type Flushable, scheduleFlush } from '../net/flusher.js';
import { InputBuffer } from '../net/input-buffer.js';
import { OutBuffer } from '../net/out-buffer.js';
import type { ReplyFramer, ServerProtocol } from './protocol.js';
import type { Request } from './request.js';
import { RequestQueue } from './request-queue.js';
import type { Server } from './server.js';

/**
 * One connection to a shard: requests are written in order (batched per event-loop turn) and
 * kept in a FIFO; replies are framed (not parsed) and handed back in the same order. Any
 * failure answers every waiting request with an error and drops the connection; the next
 * request reconnects.
 */
export class ServerConnection implements Flushable {
  private socket: Socket | null = null;
  private writer: SocketWriter | null = null;
  private connected = false;
  private readonly fifo = new RequestQueue();
  private readonly out = new OutBuffer();
  /** how many requests at the front of the fifo have been written */
  private written = 0;
  private flushQueued = false;
  private readonly input = new InputBuffer();
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  /** this connection's reply framer (it keeps the state of a reply arriving in pieces) */
  private readonly framer: ReplyFramer;

  constructor(
    private readonly server: Server,
    private readonly protocol: ServerProtocol,
    /** bytes written first on every new connection (AUTH, SELECT) and their reply count */
    private readonly handshake: Handshake | null,
  ) {
    this.framer = protocol.createFramer();
  }

  get pending(): number {
    return this.fifo.length;
  }

  /**
   * Queues a request (expecting a reply unless `req` is null) and schedules the write; the
   * bytes buf[start, end) are copied (they may sit in the shared read buffer).
   */
  send(req: Request | null, buf: Buffer, start: number, end: number): void {
    this.begin(req)?.append(buf, start, end);
  }

  /**
   * Queues a request like send(), for a caller that encodes its bytes straight into the
   * returned output (before it returns to the event loop); null when the connection is being
   * removed (the request was answered with an error).
   */
  begin(req: Request | null): OutBuffer | null {
    if (this.closing) {
      req?.answer(this.protocol.errorReply(`server ${this.server.spec.name} is being removed`), true);
      return null;
    }
    if (!this.socket) this.open();
    if (req) {
      this.fifo.push(req);
      this.server.stats.inFlight++;
      if (this.server.timeout > 0 && this.timer === null) this.armTimer(this.server.timeout);
    }
    this.server.stats.requests++;
    if (!this.flushQueued) {
      this.flushQueued = true;
      scheduleFlush(this);
    }
    return this.out;
  }

  flush(): void {
    this.flushQueued = false;
    const w = this.writer;
    if (this.socket === null || w === null || this.out.length === 0) return;
    const now = performance.now();
    const fifo = this.fifo;
    for (let i = this.written; i < fifo.length; i++) fifo.at(i).sentAt = now;
    this.written = fifo.length;
    this.server.stats.requestBytes += this.out.length;
    // one write per turn, of everything the clients sent for this server meanwhile
    if (w.write(this.out.take())) this.out.written();
  }

  /** Connects now instead of on the first request (preconnect). */
  ensureOpen(): void {
    if (!this.socket && !this.closing) this.open();
  }

  /** Stops taking requests; closes once the waiting ones are answered. */
  retire(): void {
    this.closing = true;
    if (this.pending === 0) this.destroy();
  }

  /** Closes the connection; waiting requests are answered with an error (`why`). */
  destroy(why = 'connection closed by the proxy'): void {
    this.closing = true;
    this.fail(why);
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): void {
    const spec = this.server.spec;
    const tls = this.server.tls;
    const onread = {
      buffer: READ_BUFFER,
      callback: (n: number, buf: Buffer): boolean => this.onRead(s, n, buf),
    };
    const where = spec.port === 0 ? { path: spec.host } : { port: spec.port, host: spec.host };
    // TLS sockets read through 'data' and write through socket.write: the direct paths know the
    // plain stream handle only, and a TLS connection costs far more than those paths save
    const s: Socket =
      tls === null
        ? connect({ ...where, onread })
        : tlsConnect({
            ...where,
            secureContext: tls.context,
            servername: sniFor(tls, spec.host),
            rejectUnauthorized: tls.verify,
          });
    if (tls !== null) s.on('data', (chunk: Buffer) => this.onRead(s, chunk.length, chunk));
    s.setNoDelay(true);
    this.socket = s;
    this.writer = new SocketWriter(s, null, tls === null);
    this.connected = false;
    this.tcpConnected = false;
    this.server.stats.connections++;
    const connectTimeout = this.server.timeout > 0 ? this.server.timeout : 5000;
    s.setTimeout(connectTimeout);
    s.on('timeout', () => {
      if (!this.connected)
        s.destroy(
          new Error(`${this.tcpConnected ? 'TLS handshake' : 'connect'} timed out after ${connectTimeout}ms`),
        );
    });
    s.on('connect', () => {
      this.tcpConnected = true;
    });
    s.once(tls === null ? 'connect' : 'secureConnect', () => {
      this.connected = true;
      s.setTimeout(0);
      // no idle timeout from here on: the handle may call onRead itself
      if (tls === null) readDirect(s, READ_BUFFER, onread.callback);
      this.server.connected();
      if (this.handshake === null) this.server.handshakeDone();
    });
    if (this.handshake) {
      // replies to AUTH/SELECT are consumed before the first client request's reply
      this.skipReplies = this.handshake.replies;
      s.write(this.handshake.bytes);
    }
    s.on('error', (err: NodeJS.ErrnoException) => this.onClose(s, err));
    s.on('close', () => {
      this.server.stats.connections--;
      this.onClose(s, null);
    });
  }

  private skipReplies = 0;
  /** the TCP connection is up (for TLS: the handshake may still fail) */
  private tcpConnected = false;

  /** Frames the replies in a read; true: keep reading (onread). */
  private onRead(s: Socket, n: number, chunk: Buffer): boolean {
    if (s !== this.socket) return true;
    const input = this.input;
    if (!input.push(chunk, n)) return true;
    const buf = input.data;
    const end = input.end;
    const framer = this.framer;
    const stats = this.server.stats;
    const now = performance.now();
    let pos = 0;
    try {
      while (pos < end) {
        const req = this.fifo.peek();
        if (this.skipReplies > 0) {
          const e = framer.frame(buf, pos, end, req ?? HANDSHAKE);
          if (e < 0) break;
          const hs = this.handshake!;
          if (buf[pos] === 0x2d /* - */) {
            const what = hs.what[hs.replies - this.skipReplies] ?? 'the handshake';
            const said = buf.toString('latin1', pos + 1, Math.min(e - 2, pos + 300));
            throw new HandshakeRejected(`rejected the proxy's ${what}: ${said}`);
          }
          this.skipReplies--;
          pos = e;
          if (this.skipReplies === 0) this.server.handshakeDone();
          continue;
        }
        if (req === undefined) throw new Error('reply without a request');
        const e = framer.frame(buf, pos, end, req);
        if (e < 0) break;
        this.fifo.shift();
        this.written--;
        stats.inFlight--;
        stats.responses++;
        stats.responseBytes += e - pos;
        stats.observe((now - req.sentAt) / 1000);
        const start = pos;
        pos = e;
        req.finish(buf, start, e);
      }
    } catch (err) {
      this.socket = null;
      s.destroy();
      const where = `server ${this.server.spec.name} (${this.server.address})`;
      if (err instanceof HandshakeRejected) {
        // a configuration problem (credentials): the client is told what the server said
        this.server.markProblem(err.message);
        this.fail(`${where} ${err.message}`);
      } else {
        this.server.logProtocolError(err as Error);
        this.fail(`protocol error from ${where}: ${(err as Error).message}`);
      }
      this.server.failed();
      return false;
    }
    input.keep(pos, pos < end ? framer.need : 0);
    this.server.succeeded();
    // a running timer is left alone while requests wait: when it fires it checks the oldest
    // one and re-arms for the rest of its time (no timer churn per read)
    if (this.timer !== null && this.pending === 0) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.closing && this.pending === 0) this.destroy();
    return true;
  }

  private armTimer(ms: number): void {
    this.timer = setTimeout(() => this.checkTimeout(), ms);
    this.timer.unref();
  }

  private checkTimeout(): void {
    this.timer = null;
    const req = this.fifo.peek();
    if (!req) return;
    const age = performance.now() - req.sentAt;
    const limit = this.server.timeout;
    if (req.sentAt === 0 || age < limit) {
      this.armTimer(Math.max(1, limit - (req.sentAt === 0 ? 0 : age)));
      return;
    }
    // replies after a timeout would be out of step: drop the connection like twemproxy
    this.server.stats.timeouts++;
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    this.fail(`timeout: no reply from server ${this.server.spec.name} within ${limit}ms`);
    this.server.failed();
  }

  private onClose(s: Socket, err: NodeJS.ErrnoException | null): void {
    if (s !== this.socket) return;
    this.socket = null;
    if (err) this.server.stats.errors++;
    else this.server.stats.eof++;
    let what = err ? `${err.code ?? err.message}` : 'connection closed';
    if (this.server.tls !== null && this.tcpConnected && !this.connected) {
      // TCP was up, TLS never was: a certificate or protocol mismatch, not a dead server
      // Node adds a hint about --use-system-ca that does not apply to a ca_file
      const message = err ? err.message.replace(/; if the root CA is installed locally.*$/, '') : '';
      what = `TLS handshake failed: ${err ? message : 'connection closed by the server'}${err?.code && !message.includes(err.code) ? ` (${err.code})` : ''}`;
      this.server.markProblem(what);
    }
    if (!err && this.pending === 0 && !this.closing) this.server.closed();
    if (this.pending > 0 || err) {
      this.fail(`server ${this.server.spec.name} (${this.server.address}) unavailable: ${what}`);
      this.server.failed();
    }
  }

  /** Answers every waiting request with an error; the connection starts afresh. */
  private fail(message: string): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.input.clear();
    this.framer.reset();
    this.out.clear();
    this.skipReplies = 0;
    const waiting = this.fifo.drain();
    this.written = 0;
    this.server.stats.inFlight -= waiting.length;
    if (waiting.length === 0) return;
    const reply = this.protocol.errorReply(message);
    for (const r of waiting) r.answer(reply, true);
  }
}

const HANDSHAKE = { kind: 0 } as Request;

/** Bytes written first on every new server connection (AUTH, SELECT), how many replies they get, and what each is (for errors). */
export interface Handshake {
  bytes: Buffer;
  replies: number;
  what: string[];
}

/** The server answered a handshake command with an error (wrong password, unknown user, bad db). */
class HandshakeRejected extends Error {}
