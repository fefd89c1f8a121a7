import type { Socket } from 'node:net';
import type { Logger } from '@dds/core';
import { type Flushable, scheduleFlush } from '../net/flusher.js';
import { InputBuffer } from '../net/input-buffer.js';
import type { HotKeys } from '../stats/hot-keys.js';
import { type ReplySink, Request } from './request.js';
import type { ServerPool } from './server-pool.js';

export interface Limits {
  maxRequestSize: number;
  maxArrayLength: number;
  maxPending: number;
}

export interface SessionContext {
  pool: ServerPool;
  limits: Limits;
  hotKeys: HotKeys;
  logger: Logger;
}

const COMPACT_AT = 1024;
const WRITE_HIGH_WATER = 4 * 1024 * 1024;

/**
 * One client connection of a pool: requests are parsed by the protocol subclass and queued in
 * arrival order; replies, which come back from several shards in any order, are written in
 * that order, batched per event-loop turn. A client that reads too slowly or sends too much at
 * once is paused; one that sends bad bytes gets an error reply and is closed after the replies
 * it is owed.
 */
export abstract class ClientSession implements ReplySink, Flushable {
  protected readonly queue: Request[] = [];
  protected head = 0;
  protected readonly input = new InputBuffer();
  /** no more requests are read (protocol error, QUIT, client half-closed) */
  protected closing = false;
  private flushQueued = false;
  private paused = false;
  private readonly out: Buffer[] = [];

  constructor(
    protected readonly socket: Socket,
    protected readonly ctx: SessionContext,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      // the client sent all it will send: answer what it asked, then close
      this.closing = true;
      if (this.pending === 0) socket.end();
    });
    socket.on('error', () => {
      ctx.pool.stats.clientErr++;
    });
    socket.on('drain', () => this.maybeResume());
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  protected abstract parse(buf: Buffer): number;

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    const buf = this.input.push(chunk);
    if (buf === null) return;
    const used = this.parse(buf);
    if (!this.closing) this.input.keep(buf, used, this.needHint());
    if (this.pending >= this.ctx.limits.maxPending) this.pause();
  }

  /** least bytes needed to complete the partial request (from the parser) */
  protected abstract needHint(): number;

  /** Queues a request answered by a server. */
  protected track(): Request {
    const r = new Request(this);
    this.queue.push(r);
    return r;
  }

  /** Queues a reply the proxy gives itself. */
  protected local(reply: Buffer, closeAfter = false): void {
    const r = new Request(this);
    r.closeAfter = closeAfter;
    this.queue.push(r);
    r.finish(reply);
  }

  /** Bad bytes: answer, stop reading, close once the earlier replies are out. */
  protected protocolError(reply: Buffer): void {
    this.ctx.pool.stats.protocolErrors++;
    this.ctx.logger.warn(
      { pool: this.ctx.pool.name, client: this.socket.remoteAddress, error: reply.toString('latin1').trim() },
      'protocol error from client; closing it',
    );
    this.local(reply, true);
    this.closing = true;
    this.input.clear();
  }

  complete(req: Request): void {
    if (req === this.queue[this.head] && !this.flushQueued) {
      this.flushQueued = true;
      scheduleFlush(this);
    }
  }

  flush(): void {
    this.flushQueued = false;
    const q = this.queue;
    let i = this.head;
    let close = false;
    const s = this.socket;
    const out = this.out;
    let bytes = 0;
    while (i < q.length) {
      const r = q[i]!;
      if (!r.done) break;
      q[i] = undefined as unknown as Request;
      i++;
      if (r.reply && r.reply.length > 0) {
        out.push(r.reply);
        bytes += r.reply.length;
      }
      if (r.closeAfter) {
        close = true;
        break;
      }
    }
    // one write per turn: joining the replies is cheaper than a writev of many small chunks;
    // a client that went away meanwhile just has its replies dropped
    if (!s.destroyed) {
      if (out.length === 1) s.write(out[0]!);
      else if (out.length > 1) s.write(Buffer.concat(out, bytes));
    }
    out.length = 0;
    this.head = i;
    if (this.head >= COMPACT_AT || this.head === q.length) {
      q.splice(0, this.head);
      this.head = 0;
    }
    if (close || (this.closing && this.pending === 0)) {
      this.closing = true;
      s.end();
      return;
    }
    if (s.writableLength > WRITE_HIGH_WATER) this.pause();
    else this.maybeResume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused) return;
    if (this.pending < this.ctx.limits.maxPending / 2 && this.socket.writableLength <= WRITE_HIGH_WATER) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Counts a request's key for hot-key tracking. */
  protected hot(buf: Buffer, start: number, end: number): void {
    if (this.ctx.hotKeys.enabled) this.ctx.hotKeys.record(this.ctx.pool.name, buf, start, end);
  }
}
