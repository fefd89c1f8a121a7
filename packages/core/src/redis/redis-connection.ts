import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { type RedisFailureReason, redisFailure } from './redis-failure.js';
import { type RedisTarget, redisPassword, redisTlsOptions } from './redis-target.js';
import { encodeCommand, RedisReplyError, RespDecoder, RespProtocolError, type RespValue } from './resp.js';

/** Why a conversation with Redis failed before or outside a command's own error reply. */
export class RedisSessionError extends Error {
  override name = 'RedisSessionError';
  constructor(
    readonly reason: RedisFailureReason | 'too_large',
    message: string,
    /** host:port, or `sentinel NAME` */
    readonly where: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RedisConnectOptions {
  /** aborts connecting (the reason is what the caller is told) */
  signal: AbortSignal;
  /** CLIENT SETNAME after AUTH */
  connectionName?: string;
}

const hostPort = (n: { host: string; port: number }) =>
  `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`;

/** Where a target's conversations go, for messages: host:port, or `sentinel NAME`. */
export const whereOf = (t: RedisTarget): string =>
  t.topology === 'sentinel' ? `sentinel ${t.master}` : hostPort(t.nodes[0]!);

interface Waiter {
  count: number;
  replies: RespValue[];
  resolve(replies: RespValue[]): void;
  reject(err: RedisSessionError): void;
}

/**
 * One connection to a Redis server, authenticated (AUTH with the ACL user) and on its database;
 * commands are written pipelined and their replies matched in order. What the server sends is
 * bounded per conversation (limit()): more fails the connection, so a hostile or broken server
 * cannot fill memory. Any failure (socket, TLS, garbage, the bound) fails every waiting command
 * with one RedisSessionError and closes the socket; a closed connection is never used again.
 */
export class RedisConnection {
  private readonly decoder = new RespDecoder();
  private readonly waiting: Waiter[] = [];
  private received = 0;
  private maxBytes = Number.POSITIVE_INFINITY;
  private failure: RedisSessionError | undefined;
  private onClose: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly where: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', (err) => this.fail(socketFailure(err, where)));
    socket.on('close', () =>
      this.fail(new RedisSessionError('unreachable', 'connection closed by the server', where)),
    );
  }

  /** Connects to the target (for Sentinel: the primary the sentinels name), then AUTH, SELECT, SETNAME. */
  static async open(t: RedisTarget, o: RedisConnectOptions): Promise<RedisConnection> {
    const tls = redisTlsOptions(t);
    const password = redisPassword(t);
    const node = t.topology === 'sentinel' ? await primaryOf(t, tls, o.signal) : t.nodes[0]!;
    const conn = await RedisConnection.connect(node, tls, o.signal, whereOf(t));
    const handshake: string[][] = [];
    if (password !== undefined)
      handshake.push(t.username ? ['AUTH', t.username, password] : ['AUTH', password]);
    if (t.db) handshake.push(['SELECT', String(t.db)]);
    if (o.connectionName) handshake.push(['CLIENT', 'SETNAME', o.connectionName]);
    if (handshake.length === 0) return conn;
    const onAbort = () => conn.close(o.signal.reason);
    o.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const replies = await conn.exec(handshake);
      replies.forEach((r, i) => {
        if (!(r instanceof RedisReplyError)) return;
        const what = handshake[i]![0];
        // a password for a server that has none: what ioredis does too, carry on
        if (what === 'AUTH' && /without any password configured|no password is set/.test(r.message)) return;
        const reason = what === 'AUTH' ? 'auth' : what === 'SELECT' ? 'config' : 'error';
        throw new RedisSessionError(
          reason,
          what === 'AUTH' ? r.message : `${what}: ${r.message}`,
          conn.where,
        );
      });
      return conn;
    } catch (err) {
      conn.close(err);
      throw err;
    } finally {
      o.signal.removeEventListener('abort', onAbort);
    }
  }

  /** A connection without AUTH or SELECT (a sentinel is asked before the server is known). */
  static connect(
    node: { host: string; port: number },
    tls: ConnectionOptions | undefined,
    signal: AbortSignal,
    where: string,
  ): Promise<RedisConnection> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const socket: Socket = tls
        ? tlsConnect({
            ...tls,
            host: node.host,
            port: node.port,
            // SNI must not carry an IP address (RFC 6066); the certificate is still checked against it
            ...(isIP(node.host) ? {} : { servername: node.host }),
          })
        : netConnect({ host: node.host, port: node.port });
      socket.setNoDelay(true);
      const done = (err?: unknown) => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        if (err === undefined) return resolve(new RedisConnection(socket, where));
        socket.destroy();
        reject(err);
      };
      const onAbort = () => done(signal.reason);
      const onError = (err: Error) => done(socketFailure(err, where));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once(tls ? 'secureConnect' : 'connect', () => done());
    });
  }

  /** open and not failed: usable for another conversation */
  get usable(): boolean {
    return this.failure === undefined;
  }

  /** From now on, the server may send at most maxBytes more (one conversation's bound). */
  limit(maxBytes: number): void {
    this.received = 0;
    this.maxBytes = maxBytes;
  }

  /** called once when the connection fails or closes (a cache drops it) */
  closed(cb: () => void): void {
    this.onClose = cb;
  }

  /** Writes the commands in one write; resolves with their replies (error replies are values). */
  exec(commands: readonly (readonly string[])[]): Promise<RespValue[]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ count: commands.length, replies: [], resolve, reject });
      const bytes =
        commands.length === 1 ? encodeCommand(commands[0]!) : Buffer.concat(commands.map(encodeCommand));
      this.socket.write(bytes);
    });
  }

  /** Closes the socket; waiting commands fail with reason (a RedisSessionError) or as closed. */
  close(reason?: unknown): void {
    this.fail(
      reason instanceof RedisSessionError
        ? reason
        : new RedisSessionError('unreachable', 'connection closed', this.where, { cause: reason }),
    );
  }

  private data(chunk: Buffer): void {
    if (this.failure) return;
    this.received += chunk.length;
    if (this.received > this.maxBytes) {
      this.fail(new RedisSessionError('too_large', `reply larger than ${this.maxBytes} bytes`, this.where));
      return;
    }
    let replies: RespValue[];
    try {
      replies = this.decoder.push(chunk);
    } catch (err) {
      const message = err instanceof RespProtocolError ? err.message : String(err);
      this.fail(new RedisSessionError('protocol', message, this.where, { cause: err }));
      return;
    }
    for (const r of replies) {
      const w = this.waiting[0];
      if (!w) {
        this.fail(new RedisSessionError('protocol', 'Protocol error, a reply nobody asked for', this.where));
        return;
      }
      w.replies.push(r);
      if (w.replies.length === w.count) {
        this.waiting.shift();
        w.resolve(w.replies);
      }
    }
    // a declared length beyond the bound fails now, not after reading up to it
    if (this.received - this.decoder.pending + this.decoder.awaiting > this.maxBytes) {
      this.fail(new RedisSessionError('too_large', `reply larger than ${this.maxBytes} bytes`, this.where));
    }
  }

  private fail(err: RedisSessionError): void {
    if (this.failure) return;
    this.failure = err;
    this.socket.destroy();
    for (const w of this.waiting.splice(0)) w.reject(err);
    this.onClose?.();
  }
}

/** A socket or TLS error as a RedisSessionError (reasons as core's redisFailure names them). */
function socketFailure(err: unknown, where: string): RedisSessionError {
  if (err instanceof RedisSessionError) return err;
  const f = redisFailure(err);
  return new RedisSessionError(f.reason, f.message, where, { cause: err });
}

/**
 * The primary a Sentinel set names: SENTINEL get-master-addr-by-name on each sentinel in turn
 * (over TLS when the target uses TLS), the first answer wins.
 */
async function primaryOf(
  t: RedisTarget,
  tls: ConnectionOptions | undefined,
  signal: AbortSignal,
): Promise<{ host: string; port: number }> {
  const problems: string[] = [];
  for (const node of t.nodes) {
    if (signal.aborted) throw signal.reason;
    let conn: RedisConnection | undefined;
    const onAbort = () => conn?.close(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      conn = await RedisConnection.connect(node, tls, signal, hostPort(node));
      conn.limit(64 * 1024);
      const [reply] = await conn.exec([['SENTINEL', 'get-master-addr-by-name', t.master!]]);
      if (Array.isArray(reply) && typeof reply[0] === 'string' && /^\d+$/.test(String(reply[1])))
        return { host: reply[0], port: Number(reply[1]) };
      problems.push(
        `${hostPort(node)}: ${reply instanceof RedisReplyError ? reply.message : `no primary named "${t.master}"`}`,
      );
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      // a certificate or setting that is wrong for one sentinel is wrong for all
      if (err instanceof RedisSessionError && (err.reason === 'tls' || err.reason === 'config')) throw err;
      problems.push((err as Error).message);
    } finally {
      signal.removeEventListener('abort', onAbort);
      conn?.close();
    }
  }
  throw new RedisSessionError(
    'unreachable',
    `no sentinel named a primary for "${t.master}" (${problems.join('; ')})`,
    whereOf(t),
  );
}
