import { copyBytes } from '../net/copy-bytes.js';

/** Who waits for a request's reply: a client session, or a multi-key request merging fragments. */
export interface ReplySink {
  /**
   * The reply is buf[start, end). It may sit in the shared read buffer (READ_BUFFER): valid only
   * during this call, so a sink that keeps it copies it (`req.keep`).
   */
  complete(req: Request, buf: Buffer, start: number, end: number): void;
}

/**
 * One request in flight. Sits in its client's ordered queue (or a parent's fragment list) and,
 * once sent, in one server connection's FIFO; the reply is the raw bytes from the server.
 */
export class Request {
  /** a copy of the reply, when it came before its sink could take it: reply[replyStart, replyEnd) */
  reply: Buffer | null = null;
  replyStart = 0;
  replyEnd = 0;
  done = false;
  /** the reply is an error produced by the proxy (dead shard, timeout...) */
  failed = false;
  /** ms timestamp (performance.now) when it was written to the server */
  sentAt = 0;
  /** protocol-specific: how the server's reply is framed (memcache) */
  kind = 0;
  /** close the client after this reply (QUIT, protocol error) */
  closeAfter = false;

  constructor(public sink: ReplySink | null) {}

  /**
   * A plain request for `sink`, reused when one is spare: one object per request was most of
   * what the proxy allocated (young-generation collections, whose pauses show in p99).
   */
  static create(sink: ReplySink): Request {
    const r = spare.pop();
    if (r === undefined) return new Request(sink);
    r.sink = sink;
    return r;
  }

  /**
   * Gives back a request whose reply was written out and that nothing refers to any more (its
   * client queue and server FIFO let go of it); subclasses (multi-key) are not reused.
   */
  static recycle(r: Request): void {
    if (r.constructor !== Request || spare.length >= MAX_SPARE) return;
    r.sink = null;
    r.reply = null;
    r.replyStart = 0;
    r.replyEnd = 0;
    r.done = false;
    r.failed = false;
    r.sentAt = 0;
    r.kind = 0;
    r.closeAfter = false;
    spare.push(r);
  }

  /** The reply is buf[start, end) (see ReplySink.complete for how long those bytes are valid). */
  finish(buf: Buffer, start: number, end: number, failed = false): void {
    if (this.done) return;
    this.failed = failed;
    this.done = true;
    this.sink?.complete(this, buf, start, end);
  }

  /** Finishes with a reply buffer of its own. */
  answer(reply: Buffer, failed = false): void {
    this.finish(reply, 0, reply.length, failed);
  }

  /** Keeps a copy of buf[start, end) as the reply. */
  keep(buf: Buffer, start: number, end: number): void {
    const copy = Buffer.allocUnsafe(end - start);
    copyBytes(buf, start, end, copy, 0);
    this.reply = copy;
    this.replyStart = 0;
    this.replyEnd = copy.length;
  }
}

const spare: Request[] = [];
const MAX_SPARE = 4096;
