import type { Socket } from 'node:net';
import { adoptSocket } from '@dds/core/internals/socket-adoption';
import { readDirect } from '@dds/core/internals/socket-reader';
import { SocketWriter } from '@dds/core/internals/socket-writer';
import type { Logger } from '@dds/core/logger';
import { READ_BUFFER } from '@dds/core/net/read-buffer';
import { type Flushable, scheduleFlush } from '../net/flusher.js';
import { type InputBudget, InputBuffer } from '../net/input-buffer.js';
import { OutBuffer } from '../net/out-buffer.js';
import type { HotKeys } from '../stats/hot-keys.js';
import { ReplyStore } from './reply-store.js';
import { type ReplySink, Request } from './request.js';
import { RequestQueue } from './request-queue.js';
import type { ServerPool } from './server-pool.js';

/**
 * What a refused client may still send, read and dropped so that its error reply is not lost to a
 * reset (nginx's lingering close does the same, bounded by time). Far below --max-request-size, so
 * a client streaming a huge refused frame costs little. Past it the socket is no longer read (TCP
 * flow control stops the client) and is cut off LINGER_MS later: a reset sent at once could
 * reach the client before it read the reply, and its kernel then drops the reply unread (seen
 * on a loaded machine: the error line never arrived).
 */
const LINGER_BYTES = 1024 * 1024;
const LINGER_MS = 2000;

/** What one client may send and hold (flags; see the README's Limits). */
export interface Limits {
  maxRequestSize: number;
  maxArrayLength: number;
  maxPending: number;
  /** Redis: longest inline command */
  redisMaxInline: number;
  /** memcache: longest line other than a get, longest key, largest value */
  memcacheMaxLine: number;
  memcacheMaxKeyLength: number;
  memcacheMaxValue: number;
  /** queued reply bytes at which the client's socket stops being read */
  clientOutputHighWater: number;
  /** queued reply bytes at which the client is closed (its replies dropped) */
  clientOutputLimit: number;
}

/** The limit over all clients of a process: bytes of incomplete requests held. */
export interface InputBudgetLimit extends InputBudget {
  max: number;
}

export interface SessionContext {
  pool: ServerPool;
  limits: Limits;
  hotKeys: HotKeys;
  logger: Logger;
  inputBudget: InputBudgetLimit;
  /** a coarse clock (ms), advanced by the listener's idle sweep: cheaper than Date.now() per read */
  clock: { now: number };
}

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
  protected readonly input: InputBuffer;
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
  /** ctx.clock.now when the client last sent bytes or took queued replies (idle timeout) */
  lastActive: number;
  /** the process is shutting down: close at the next point with nothing owed */
  private draining = false;
  /** bytes read and dropped since no more requests are read */
  private discarded = 0;

  /** `accepted` comes from a server with pauseOnConnect; its handle moves to `socket`. */
  constructor(
    accepted: Socket,
    protected readonly ctx: SessionContext,
  ) {
    this.input = new InputBuffer(ctx.inputBudget);
    this.lastActive = ctx.clock.now;
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
    // the partial request it held is no longer the process's to hold
    socket.on('close', () => this.input.clear());
    this.writer = new SocketWriter(socket, () => {
      this.lastActive = this.ctx.clock.now;
      this.maybeResume();
    });
  }

  /**
   * Idle: nothing read from the client and none of its queued replies taken for `ms`. A client
   * whose requests wait for a server (and that has nothing queued) is not idle: the pool's
   * `timeout` is what bounds that wait.
   */
  idleFor(now: number, ms: number): boolean {
    if (now - this.lastActive < ms) return false;
    return !(this.pending > 0 && this.writer.pending === 0);
  }

  /** Closes the connection (idle timeout, shutdown deadline): replies not yet written are dropped. */
  close(): void {
    this.closing = true;
    this.input.clear();
    this.socket.destroy();
  }

  /**
   * Shutdown: requests already read are answered, and the connection is closed at the first
   * moment nothing is owed and no partial request is held (at once for an idle client).
   */
  drain(): void {
    this.draining = true;
    if (this.pending === 0 && this.input.buffered === 0 && !this.flushQueued) this.end();
  }

  private end(): void {
    this.closing = true;
    this.input.clear();
    this.socket.end();
  }

  /** requests whose replies are not in the output yet */
  get pending(): number {
    return this.queue.length;
  }

  /** Parses requests in buf[0, end); returns how many bytes were used. */
  protected abstract parse(buf: Buffer, end: number): number;

  private onRead(n: number, chunk: Buffer): void {
    if (this.closing) {
      // what a refused client still sends is read and dropped (so that it gets its error reply
      // rather than a reset), up to LINGER_BYTES; past that it is cut off
      const before = this.discarded;
      this.discarded += n;
      if (this.discarded > LINGER_BYTES && before <= LINGER_BYTES) {
        this.pause();
        const socket = this.socket;
        setTimeout(() => socket.destroy(), LINGER_MS).unref();
      }
      return;
    }
    this.lastActive = this.ctx.clock.now;
    const input = this.input;
    if (!input.push(chunk, n)) {
      this.checkBudget();
      return;
    }
    this.reading = true;
    const used = this.parse(input.data, input.end);
    this.reading = false;
    if (this.closing) input.clear();
    else {
      input.keep(used, this.needHint());
      if (input.buffered > 0) this.checkBudget();
    }
    if (this.pending >= this.ctx.limits.maxPending) this.pause();
    else if (this.pending === 0 && this.flushQueued) this.flush();
    else if (this.draining && this.pending === 0 && input.buffered === 0) this.end();
  }

  /** Over the process's budget of incomplete requests: the client whose request grows is refused. */
  private checkBudget(): void {
    const b = this.ctx.inputBudget;
    if (b.held <= b.max || this.closing) return;
    this.limitError(
      `the proxy holds ${b.held} bytes of incomplete requests, over --max-input-buffer ${b.max}`,
    );
  }

  /** A limit was exceeded: answer with the protocol's error line, stop reading, close. */
  protected abstract limitError(message: string): void;

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
    this.resetParser();
  }

  /** Forgets a partial request (the parser's state of it). */
  protected abstract resetParser(): void;

  complete(req: Request, buf: Buffer, start: number, end: number): void {
    const q = this.queue;
    if (req !== q.peek()) {
      // an earlier request is still waiting: this reply waits with it
      this.early.keep(req, buf, start, end);
      // (a pipelining client's replies wait here all the time: the full check only when many do)
      if (this.early.bytes > this.ctx.limits.clientOutputHighWater) this.checkOutput();
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
      else if (this.writer.write(this.out.take())) {
        this.out.written();
        this.lastActive = this.ctx.clock.now;
      }
    }
    if (this.ended || (this.closing && this.pending === 0)) {
      this.closing = true;
      s.end();
      return;
    }
    if (this.draining && this.pending === 0 && this.input.buffered === 0) {
      this.end();
      return;
    }
    if (this.writer.pending > this.ctx.limits.clientOutputHighWater) {
      this.pause();
      this.checkOutput();
    } else this.maybeResume();
  }

  /**
   * Replies of requests read before the client was paused still arrive: one that does not read
   * them is closed once they pass the output limit (Redis's client-output-buffer-limit), so
   * what it costs stays bounded.
   */
  private checkOutput(): void {
    const queued = this.writer.pending + this.out.length + this.early.bytes;
    if (queued <= this.ctx.limits.clientOutputLimit || this.socket.destroyed) return;
    this.ctx.pool.stats.outputLimitClosed++;
    this.ctx.logger.warn(
      {
        pool: this.ctx.pool.name,
        client: this.socket.remoteAddress,
        queued,
        limit: this.ctx.limits.clientOutputLimit,
      },
      'client does not read its replies; closed at --client-output-limit',
    );
    this.close();
    this.out.clear();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.discarded > LINGER_BYTES) return;
    if (
      this.pending < this.ctx.limits.maxPending / 2 &&
      this.writer.pending <= this.ctx.limits.clientOutputHighWater
    ) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Counts a request's key for hot-key tracking. */
  protected hot(buf: Buffer, start: number, end: number): void {
    if (this.ctx.hotKeys.enabled) this.ctx.hotKeys.record(this.ctx.pool.name, buf, start, end);
  }
}
