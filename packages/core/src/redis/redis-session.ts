import type { Redis } from 'ioredis';
import { type RedisFailureReason, redisFailure } from './redis-failure.js';
import type { RedisTarget } from './redis-target.js';

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

/** Why a session failed before or outside a command's own error reply. */
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

/**
 * One short conversation on a fresh ioredis connection (a scrape, a health check): no reconnect,
 * no ready check, the client's AUTH/TLS/Sentinel handling, a deadline and a bound on what the
 * server sends. `use` sees command errors as ioredis ReplyErrors (NOAUTH, LOADING: the caller
 * decides what they mean); a connection that fails (refused, AUTH, TLS, garbage, the deadline)
 * ends as a RedisSessionError naming the first cause, not ioredis' "Connection is closed".
 */
export async function redisSession<T>(
  target: RedisTarget,
  o: RedisSessionOptions,
  use: (client: Redis) => Promise<T>,
): Promise<T> {
  // ioredis loads with the first session (a scrape, a check), not at start
  const { createRedisClient } = await import('./redis-client.js');
  const n = target.nodes[0]!;
  const where =
    target.topology === 'sentinel'
      ? `sentinel ${target.master}`
      : `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`;
  const fail = (err: unknown) => {
    if (err instanceof RedisSessionError) return err;
    const f = redisFailure(err);
    return new RedisSessionError(f.reason, f.reason === 'auth' ? (err as Error).message : f.message, where, {
      cause: err,
    });
  };
  let client: Redis | undefined;
  let lastError: Error | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (e: RedisSessionError) => {
      reject(e);
      client?.disconnect();
    };
    timer = setTimeout(
      () => stop(new RedisSessionError('timeout', `no complete reply within ${o.timeoutMs}ms`, where)),
      o.timeoutMs,
    );
    onAbort = () => stop(new RedisSessionError('timeout', 'timed out', where));
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      client = createRedisClient(target, {
        reconnect: false,
        lazyConnect: true,
        readyCheck: false,
        offlineQueue: true,
        commandTimeoutMs: 0,
        connectTimeoutMs: o.timeoutMs,
        ...(o.connectionName ? { connectionName: o.connectionName } : {}),
      }) as Redis;
    } catch (err) {
      reject(fail(err));
      return;
    }
    client.on('error', (err: Error) => {
      lastError ??= err;
    });
    client.on('connect', () => {
      let received = 0;
      client!.stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > o.maxBytes)
          stop(new RedisSessionError('too_large', `reply larger than ${o.maxBytes} bytes`, where));
      });
    });
  });
  stopped.catch(() => {});
  // after a connection-level error (AUTH refused, garbage, TLS) the pending commands fail with
  // its consequences ("Connection is closed.", NOAUTH): the first error is the reason
  const cause = (err: unknown) => (lastError ? fail(lastError) : err);
  const run = async () => {
    try {
      await client!.connect();
    } catch (err) {
      throw fail(lastError ?? err);
    }
    try {
      return await use(client!);
    } catch (err) {
      throw cause(err);
    }
  };
  try {
    return await Promise.race([stopped, run()]);
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    client?.disconnect();
  }
}
