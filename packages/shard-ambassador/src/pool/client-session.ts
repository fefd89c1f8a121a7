import type { Socket } from 'node:net';
import type { Logger } from '@dds/core/logger';
import { adoptSocket, READ_BUFFER } from '@dds/core/net/read-buffer';
import { type Flushable, scheduleFlush } from '../net/flusher.js';
import { InputBuffer } from '../net/input-buffer.js';
import { OutBuffer } from '../net/out-buffer.js';
import { readDirect } from '../net/socket-reader.js';
import { SocketWriter } from '../net/socket-writer.js';
import type { HotKeys } from '../stats/hot-keys.js';
import { ReplyStore } from './reply-store.js';
import { type ReplySink, Request } from './request.js';
import { RequestQueue } from './request-queue.js';
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

const WRITE_HIGH_WATER = 4 * 1024 * 1024;

/**
 * One client connection of a pool: requests are parsed by the protocol subclass and queued in
 * arrival order; replies, which come back from several shards in any order, are copied into the
 * output in that order as soon as they are next in line (a reply that comes early is kept until
 * then), and written once per event-loop turn. A client that reads too slowly or sends too much
 * at once is paused; one that sends bad bytes gets an error reply and is closed after the
 * replies it is owed.
 */
export abstract class ClientSession implements ReplySink, Flushable {
  /** the client connection (reads into the shared read buffer) */
  readonly socket: Socket;
  private readonly writer: SocketWriter;
  /** requests whose replies are not in the output yet, in arrival order */
  protected readonly queue = new RequestQueue();
  protected readonly input = new InputBuffer();
  /** no more requests are read (protocol error, QUIT, client half-closed) */
  protected closing = false;
  /** a reply that closes the connection is in the output: nothing more is written */
  private ended = false;
  private flushQueued = false;
  /** parsing a read: replies the proxy gives itself wait for the end of it */
  private reading = false;
  private paused = false;
  /** small slabs: an idle client holds at most one (a shard connection's are larger) */
  private readonly out = new OutBuffer(4096);
  /** replies that came before an earlier request's */
  private readonly early = new ReplyStore();

  /** `accepted` comes from a server with pauseOnConnect; its handle moves to `socket`. */
  constructor(
    accepted: Socket,
    protected readonly ctx: SessionContext,
  ) {
    const socket = adoptSocket(accepted, (n, buf) => this.onRead(n, buf), true);
    this.socket = socket;
    // the handle calls onRead itself (no idle timeout is set on client sockets)
    readDirect(socket, READ_BUFFER, (n, buf) => {
      this.onRead(n, buf);
      return true;
    });
    socket.setNoDelay(true);
    socket.on('end', () => {
      // the client sent all it will send: answer what it asked, then close
      this.closing = true;
      if (this.pending === 0 && !this.flushQueued) socket.end();
    });
    socket.on('error', () => {
      ctx.pool.stats.clientErr++;
    });
    this.writer = new SocketWriter(socket, () => this.maybeResume());
  }

  /** requests whose replies are not in the output yet */
  get pending(): number {
    return this.queue.length;
  }

  /** Parses requests in buf[0, end); returns how many bytes were used. */
  protected abstract parse(buf: Buffer, end: number): number;

  private onRead(n: number, chunk: Buffer): void {
    if (this.closing) return;
    const input = this.input;
    if (!input.push(chunk, n)) return;
    this.reading = true;
    const used = this.parse(input.data, input.end);
    this.reading = false;
    if (this.closing) input.clear();
    else input.keep(used, this.needHint());
    if (this.pending >= this.ctx.limits.maxPending) this.pause();
    else if (this.pending === 0 && this.flushQueued) this.flush();
  }

  /** least bytes needed to complete the partial request (from the parser) */
  protected abstract needHint(): number;

  /** Queues a request answered by a server. */
  protected track(): Request {
    const r = Request.create(this);
    this.queue.push(r);
    return r;
  }

  /** Queues a reply the proxy gives itself. */
  protected local(reply: Buffer, closeAfter = false): void {
    const r = Request.create(this);
    r.closeAfter = closeAfter;
    this.queue.push(r);
    r.answer(reply);
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

  complete(req: Request, buf: Buffer, start: number, end: number): void {
    const q = this.queue;
    if (req !== q.peek()) {
      // an earlier request is still waiting: this reply waits with it
      this.early.keep(req, buf, start, end);
      return;
    }
    q.shift();
    this.emit(req, buf, start, end);
    // out of every queue now, and the caller (req.finish) is done with it
    Request.recycle(req);
    for (let r = q.peek(); r?.done; r = q.peek()) {
      q.shift();
      this.emit(r, r.reply!, r.replyStart, r.replyEnd);
      this.early.release();
      Request.recycle(r);
    }
    // nothing else outstanding: write now, the client is waiting for exactly this (-P 1);
    // otherwise gather what else is answered during this event-loop turn into one write
    if (this.pending === 0 && !this.reading) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      scheduleFlush(this);
    }
  }

  /** Puts the reply of the request next in line into the output. */
  private emit(req: Request, buf: Buffer, start: number, end: number): void {
    if (this.ended) return;
    this.out.append(buf, start, end);
    if (req.closeAfter) this.ended = true;
  }

  /** Writes the output (from the flusher, or at once when nothing else is outstanding). */
  flush(): void {
    this.flushQueued = false;
    const s = this.socket;
    // a client that went away meanwhile just has its replies dropped
    if (this.out.length > 0) {
      if (s.destroyed) this.out.clear();
      else if (this.writer.write(this.out.take())) this.out.written();
    }
    if (this.ended || (this.closing && this.pending === 0)) {
      this.closing = true;
      s.end();
      return;
    }
    if (this.writer.pending > WRITE_HIGH_WATER) this.pause();
    else this.maybeResume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused) return;
    if (this.pending < this.ctx.limits.maxPending / 2 && this.writer.pending <= WRITE_HIGH_WATER) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Counts a request's key for hot-key tracking. */
  protected hot(buf: Buffer, start: number, end: number): void {
    if (this.ctx.hotKeys.enabled) this.ctx.hotKeys.record(this.ctx.pool.name, buf, start, end);
  }
}
