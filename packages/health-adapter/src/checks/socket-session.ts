import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { CheckFailure, toFailure } from './probe.js';

/** Reads one complete reply from the front of buf: its value and the bytes it used, or undefined if incomplete. */
export type ReplyParser<T> = (buf: Buffer) => { value: T; used: number } | undefined;

export interface SessionTarget {
  host: string;
  port: number;
  /** TLS options (rediss://), or undefined for plain TCP */
  tls?: { ca?: string; rejectUnauthorized: boolean } | undefined;
}

/**
 * A request/reply conversation over one TCP (or TLS) socket, for the small text protocols of
 * Redis and memcached. Replies are bounded (a huge or endless reply fails the check instead of
 * filling memory), and the socket is destroyed the moment the run's signal aborts.
 */
export class SocketSession {
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: CheckFailure | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly maxReply: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      if (this.buf.length > this.maxReply)
        this.fail(new CheckFailure('protocol', `reply larger than ${this.maxReply} bytes`));
      this.waiter?.();
    });
    socket.on('error', (err) => this.fail(toFailure(err)));
    socket.on('close', () => this.fail(new CheckFailure('connect', 'connection closed by the server')));
  }

  static open(target: SessionTarget, signal: AbortSignal, maxReply = 1 << 20): Promise<SocketSession> {
    return new Promise((resolve, reject) => {
      const socket = target.tls
        ? tlsConnect({
            host: target.host,
            port: target.port,
            ...(isIP(target.host) ? {} : { servername: target.host }),
            ...target.tls,
          })
        : tcpConnect({ host: target.host, port: target.port });
      const session = new SocketSession(socket, maxReply);
      const onAbort = () => session.fail(new CheckFailure('timeout', 'timed out'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', onAbort));
      socket.once(target.tls ? 'secureConnect' : 'connect', () => resolve(session));
      session.waiter = () => session.failure && reject(session.failure);
      if (signal.aborted) onAbort();
    });
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves with the next reply, or rejects with the session's failure (timeout, close, garbage). */
  read<T>(parse: ReplyParser<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      this.waiter = () => {
        if (this.failure) return reject(this.failure);
        let r: ReturnType<ReplyParser<T>>;
        try {
          r = parse(this.buf);
        } catch (err) {
          this.fail(toFailure(err));
          return reject(this.failure);
        }
        if (!r) return;
        this.buf = this.buf.subarray(r.used);
        this.waiter = undefined;
        resolve(r.value);
      };
      this.waiter();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(f: CheckFailure): void {
    if (this.failure) return;
    this.failure = f;
    this.socket.destroy();
    this.waiter?.();
  }
}
