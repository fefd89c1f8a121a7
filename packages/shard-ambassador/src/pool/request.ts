/** Who waits for a request's reply: a client session, or a multi-key request merging fragments. */
export interface ReplySink {
  complete(req: Request): void;
}

/**
 * One request in flight. Sits in its client's ordered queue (or a parent's fragment list) and,
 * once sent, in one server connection's FIFO; the reply is the raw bytes from the server.
 */
export class Request {
  reply: Buffer | null = null;
  done = false;
  /** the reply is an error produced by the proxy (dead shard, timeout...) */
  failed = false;
  /** ms timestamp (performance.now) when it was written to the server */
  sentAt = 0;
  /** protocol-specific: how the server's reply is framed (memcache) */
  kind = 0;
  /** position among the fragments of a multi-key parent */
  slot = 0;
  /** close the client after this reply (QUIT, protocol error) */
  closeAfter = false;

  constructor(public sink: ReplySink | null) {}

  finish(reply: Buffer, failed = false): void {
    if (this.done) return;
    this.reply = reply;
    this.failed = failed;
    this.done = true;
    this.sink?.complete(this);
  }
}
