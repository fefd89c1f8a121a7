import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Flushable, scheduleFlush } from '../net/flusher.js';
import { InputBuffer } from '../net/input-buffer.js';
import type { ServerProtocol } from './protocol.js';
import type { Request } from './request.js';
import type { Server } from './server.js';

const COMPACT_AT = 1024;

/**
 * One connection to a shard: requests are written in order (batched per event-loop turn) and
 * kept in a FIFO; replies are framed (not parsed) and handed back in the same order. Any
 * failure answers every waiting request with an error and drops the connection; the next
 * request reconnects.
 */
export class ServerConnection implements Flushable {
  private socket: Socket | null = null;
  private connected = false;
  private readonly fifo: Request[] = [];
  private head = 0;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushQueued = false;
  private readonly input = new InputBuffer();
  private timer: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(
    private readonly server: Server,
    private readonly protocol: ServerProtocol,
    /** bytes written first on every new connection (AUTH, SELECT) and their reply count */
    private readonly handshake: { bytes: Buffer; replies: number } | null,
  ) {}

  get pending(): number {
    return this.fifo.length - this.head;
  }

  /** Queues a request (expecting a reply unless `noReply`) and schedules the write. */
  send(req: Request | null, data: Buffer): void {
    if (this.closing) {
      req?.finish(this.protocol.errorReply(`server ${this.server.spec.name} is being removed`), true);
      return;
    }
    if (!this.socket) this.open();
    if (req) {
      this.fifo.push(req);
      this.server.stats.inFlight++;
      if (this.server.timeout > 0 && this.timer === null) this.armTimer(this.server.timeout);
    }
    this.out.push(data);
    this.outBytes += data.length;
    this.server.stats.requests++;
    this.server.stats.requestBytes += data.length;
    if (!this.flushQueued) {
      this.flushQueued = true;
      scheduleFlush(this);
    }
  }

  flush(): void {
    this.flushQueued = false;
    const s = this.socket;
    if (!s || this.out.length === 0) return;
    const now = performance.now();
    for (let i = this.head; i < this.fifo.length; i++) {
      const r = this.fifo[i]!;
      if (r.sentAt === 0) r.sentAt = now;
    }
    // one write per turn: joining small requests is cheaper than a writev of many chunks
    s.write(this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes));
    this.out = [];
    this.outBytes = 0;
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

  destroy(): void {
    this.closing = true;
    this.fail('connection closed by the proxy');
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): void {
    const spec = this.server.spec;
    const s = spec.port === 0 ? connect(spec.host) : connect(spec.port, spec.host);
    s.setNoDelay(true);
    this.socket = s;
    this.connected = false;
    this.server.stats.connections++;
    const connectTimeout = this.server.timeout > 0 ? this.server.timeout : 5000;
    s.setTimeout(connectTimeout);
    s.on('timeout', () => {
      if (!this.connected) s.destroy(new Error(`connect timed out after ${connectTimeout}ms`));
    });
    s.on('connect', () => {
      this.connected = true;
      s.setTimeout(0);
      this.server.connected();
    });
    if (this.handshake) {
      // replies to AUTH/SELECT are consumed before the first client request's reply
      this.skipReplies = this.handshake.replies;
      s.write(this.handshake.bytes);
    }
    s.on('data', (chunk: Buffer) => this.onData(s, chunk));
    s.on('error', (err: NodeJS.ErrnoException) => this.onClose(s, err));
    s.on('close', () => {
      this.server.stats.connections--;
      this.onClose(s, null);
    });
  }

  private skipReplies = 0;

  private onData(s: Socket, chunk: Buffer): void {
    if (s !== this.socket) return;
    const buf = this.input.push(chunk);
    if (buf === null) return;
    const p = this.protocol;
    const stats = this.server.stats;
    const now = performance.now();
    let pos = 0;
    const end = buf.length;
    try {
      while (pos < end) {
        const req = this.fifo[this.head];
        if (this.skipReplies > 0) {
          const e = p.frameReply(buf, pos, end, req ?? HANDSHAKE);
          if (e < 0) break;
          if (buf[pos] === 0x2d /* - */) {
            throw new Error(`handshake rejected: ${buf.toString('latin1', pos, Math.min(e - 2, pos + 200))}`);
          }
          this.skipReplies--;
          pos = e;
          continue;
        }
        if (req === undefined) throw new Error('reply without a request');
        const e = p.frameReply(buf, pos, end, req);
        if (e < 0) break;
        this.fifo[this.head] = undefined as unknown as Request;
        this.head++;
        stats.inFlight--;
        stats.responses++;
        stats.responseBytes += e - pos;
        stats.observe((now - req.sentAt) / 1000);
        req.finish(buf.subarray(pos, e));
        pos = e;
      }
    } catch (err) {
      this.server.logProtocolError(err as Error);
      this.socket = null;
      s.destroy();
      this.fail(`protocol error from server ${this.server.spec.name}`);
      this.server.failed();
      return;
    }
    this.input.keep(buf, pos, pos < end ? p.need : 0);
    if (this.head >= COMPACT_AT || this.head === this.fifo.length) {
      this.fifo.splice(0, this.head);
      this.head = 0;
    }
    this.server.succeeded();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      if (this.pending > 0) this.armTimer(this.server.timeout);
    }
    if (this.closing && this.pending === 0) this.destroy();
  }

  private armTimer(ms: number): void {
    this.timer = setTimeout(() => this.checkTimeout(), ms);
    this.timer.unref();
  }

  private checkTimeout(): void {
    this.timer = null;
    const req = this.fifo[this.head];
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
    const what = err ? `${err.code ?? err.message}` : 'connection closed';
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
    this.out = [];
    this.outBytes = 0;
    this.skipReplies = 0;
    const waiting = this.fifo.slice(this.head);
    this.fifo.length = 0;
    this.head = 0;
    this.server.stats.inFlight -= waiting.length;
    if (waiting.length === 0) return;
    const reply = this.protocol.errorReply(message);
    for (const r of waiting) r.finish(reply, true);
  }
}

const HANDSHAKE = { kind: 0 } as Request;
