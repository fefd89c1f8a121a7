import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { RedisConnection, RedisSessionError, whereOf } from './redis-connection.js';
import { redisFailure } from './redis-failure.js';
import { type RedisTarget, redisPassword } from './redis-target.js';
import { RedisReplyError, type RespValue } from './resp.js';

export { RedisSessionError } from './redis-connection.js';
export { RedisReplyError, type RespValue } from './resp.js';

export interface RedisSessionOptions {
  /** connect, authenticate and finish within this */
  timeoutMs: number;
  /** most bytes the server may send; more aborts the session (a hostile server cannot fill memory) */
  maxBytes: number;
  /** gives up when it aborts */
  signal?: AbortSignal;
  /** CLIENT SETNAME (none by default: one more command a probed server has to answer first) */
  connectionName?: string;
}

/** What a session's code talks through. */
export interface RedisCommands {
  /** one command; an error reply throws it as a RedisReplyError */
  call(...args: string[]): Promise<RespValue>;
  /** commands in one write; error replies are RedisReplyError values in the result */
  pipeline(commands: readonly (readonly string[])[]): Promise<RespValue[]>;
  /** the connection was kept from an earlier session (see StaleRedisConnection) */
  readonly reused: boolean;
}

/**
 * Thrown by a session's code when what a kept connection answered shows it is no longer the
 * right server (a Sentinel failover made its primary a replica): the session runs again on a
 * fresh connection.
 */
export class StaleRedisConnection extends Error {
  override name = 'StaleRedisConnection';
}

/**
 * One short conversation (a health check): a fresh connection (AUTH with the ACL user, TLS,
 * Sentinel's primary), a deadline and a bound on what the server sends, then closed. `use` sees
 * command errors as RedisReplyErrors (NOAUTH, LOADING: the caller decides what they mean); a
 * connection that fails (refused, AUTH, TLS, garbage, the deadline) ends as a RedisSessionError
 * naming the first cause.
 */
export function redisSession<T>(
  target: RedisTarget,
  o: RedisSessionOptions,
  use: (redis: RedisCommands) => Promise<T>,
): Promise<T> {
  return converse(target, o, use, undefined);
}

/**
 * Keeps one authenticated connection per target between sessions (a scrape every few seconds
 * need not connect, authenticate and handshake TLS each time). A session takes the target's idle
 * connection or opens one; after a successful session the connection goes back, unless one is
 * already idle for the target. A kept connection is closed when the password (its file) or a TLS
 * file changes, when it fails, after idleMs unused, or when more than maxIdle targets are kept
 * (the least recently used goes). A session on a kept connection that dies before it answers
 * runs once more on a fresh connection.
 */
export class RedisConnections {
  private readonly idle = new Map<string, { stamp: string; conn: RedisConnection; timer: NodeJS.Timeout }>();
  private closing = false;

  constructor(private readonly o: { maxIdle: number; idleMs: number }) {}

  session<T>(
    target: RedisTarget,
    so: RedisSessionOptions,
    use: (redis: RedisCommands) => Promise<T>,
  ): Promise<T> {
    return converse(target, so, use, this);
  }

  /** connections kept now */
  get size(): number {
    return this.idle.size;
  }

  /** Closes every kept connection; sessions still running close theirs when they end. */
  close(): void {
    this.closing = true;
    for (const key of [...this.idle.keys()]) this.drop(key);
  }

  /** @internal the target's idle connection, if its credentials are unchanged */
  take(key: string, stamp: string): RedisConnection | undefined {
    const kept = this.idle.get(key);
    if (!kept) return undefined;
    this.idle.delete(key);
    clearTimeout(kept.timer);
    kept.conn.closed(() => {});
    if (kept.stamp === stamp && kept.conn.usable) return kept.conn;
    kept.conn.close();
    return undefined;
  }

  /** @internal back after a successful session */
  keep(key: string, stamp: string, conn: RedisConnection): void {
    if (this.closing || !conn.usable || this.idle.has(key)) {
      conn.close();
      return;
    }
    while (this.idle.size >= this.o.maxIdle) this.drop(this.idle.keys().next().value!);
    const timer = setTimeout(() => this.drop(key), this.o.idleMs);
    timer.unref();
    this.idle.set(key, { stamp, conn, timer });
    conn.closed(() => {
      if (this.idle.get(key)?.conn === conn) this.drop(key);
    });
  }

  private drop(key: string): void {
    const kept = this.idle.get(key);
    if (!kept) return;
    this.idle.delete(key);
    clearTimeout(kept.timer);
    kept.conn.closed(() => {});
    kept.conn.close();
  }
}

/** The target without its credentials: one kept connection per server, user and database. */
const keyOf = (t: RedisTarget) =>
  JSON.stringify([
    t.topology,
    t.nodes,
    t.master ?? '',
    t.db,
    t.tls,
    t.username ?? '',
    t.tlsSkipVerify ?? false,
  ]);

/** What a connection was authenticated with: the password now (its file) and the TLS files' identity. */
function stampOf(t: RedisTarget): string {
  const h = createHash('sha256');
  h.update(redisPassword(t) ?? '\0none');
  for (const f of [t.tlsCaFile, t.tlsCertFile, t.tlsKeyFile]) {
    if (!f) continue;
    try {
      const s = statSync(f);
      h.update(`\0${f}\0${s.ino}:${s.size}:${s.mtimeMs}`);
    } catch {
      h.update(`\0${f}\0missing`);
    }
  }
  return h.digest('base64');
}

async function converse<T>(
  target: RedisTarget,
  o: RedisSessionOptions,
  use: (redis: RedisCommands) => Promise<T>,
  cache: RedisConnections | undefined,
): Promise<T> {
  const where = whereOf(target);
  const stop = new AbortController();
  const timer = setTimeout(
    () => stop.abort(new RedisSessionError('timeout', `no complete reply within ${o.timeoutMs}ms`, where)),
    o.timeoutMs,
  );
  const onAbort = () => stop.abort(new RedisSessionError('timeout', 'timed out', where));
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let key = '';
    let stamp = '';
    let kept: RedisConnection | undefined;
    if (cache) {
      key = keyOf(target);
      try {
        stamp = stampOf(target);
      } catch (err) {
        throw asSessionError(err, where);
      }
      kept = cache.take(key, stamp);
    }
    if (kept) {
      try {
        const result = await once(kept, true, o, stop.signal, use);
        cache!.keep(key, stamp, kept);
        return result;
      } catch (err) {
        kept.close();
        // the kept connection died (the server closed it while idle) or is stale: once more, fresh
        const died = err instanceof RedisSessionError && err.reason === 'unreachable' && !stop.signal.aborted;
        if (!died && !(err instanceof StaleRedisConnection)) throw err;
      }
    }
    const conn = await RedisConnection.open(target, {
      signal: stop.signal,
      ...(o.connectionName ? { connectionName: o.connectionName } : {}),
    }).catch((err: unknown) => {
      throw asSessionError(err, where);
    });
    try {
      const result = await once(conn, false, o, stop.signal, use);
      if (cache) cache.keep(key, stamp, conn);
      else conn.close();
      return result;
    } catch (err) {
      conn.close();
      throw err instanceof StaleRedisConnection ? new RedisSessionError('error', err.message, where) : err;
    }
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** One session on an open connection: bounded, aborted with the deadline. */
async function once<T>(
  conn: RedisConnection,
  reused: boolean,
  o: RedisSessionOptions,
  signal: AbortSignal,
  use: (redis: RedisCommands) => Promise<T>,
): Promise<T> {
  if (signal.aborted) throw signal.reason;
  conn.limit(o.maxBytes);
  const onAbort = () => conn.close(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let failure: RedisSessionError | undefined;
  const pipeline = (commands: readonly (readonly string[])[]) =>
    conn.exec(commands).catch((err: RedisSessionError) => {
      failure ??= err;
      throw err;
    });
  try {
    return await use({
      reused,
      pipeline,
      call: async (...args) => {
        const [reply] = await pipeline([args]);
        if (reply instanceof RedisReplyError) throw reply;
        return reply!;
      },
    });
  } catch (err) {
    // a command that failed because the connection did: the connection's failure is the reason
    throw failure ?? err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function asSessionError(err: unknown, where: string): RedisSessionError {
  if (err instanceof RedisSessionError) return err;
  const f = redisFailure(err);
  return new RedisSessionError(f.reason, f.message, where, { cause: err });
}
