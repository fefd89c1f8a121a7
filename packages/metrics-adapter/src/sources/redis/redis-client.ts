import { createRedisClient } from '@dds/core/redis/redis-client';
import { type RedisFailureReason, redisFailure } from '@dds/core/redis/redis-failure';
import type { RedisTarget } from '@dds/core/redis/redis-target';
import type { Redis } from 'ioredis';
import { ScrapeError, type ScrapeFailure } from '../scrape-error.js';

export interface RedisSnapshot {
  info: string;
  /** CONFIG GET results (empty when CONFIG is disabled or renamed) */
  config: Map<string, string>;
  slowlogLength?: number;
  /** newest SLOWLOG entry (id 0, 0 µs when the log is empty, as redis_exporter reports it) */
  slowlogLast?: { id: number; micros: number };
}

export interface FetchOptions {
  /** connect, authenticate and answer within this */
  timeoutMs: number;
  /** largest reply accepted; a bigger one aborts the scrape (a misbehaving target cannot exhaust memory) */
  maxBytes: number;
}

const CONFIG_KEYS = ['maxmemory', 'maxclients', 'io-threads'] as const;

const REASON: Record<RedisFailureReason, ScrapeFailure> = {
  auth: 'auth',
  permission: 'auth',
  tls: 'tls',
  unreachable: 'unreachable',
  cluster_down: 'unreachable',
  timeout: 'timeout',
  loading: 'error',
  config: 'error',
  protocol: 'protocol',
  error: 'error',
};

/**
 * What a scrape needs, in one pipelined round trip on a fresh ioredis connection (AUTH with
 * the ACL user, TLS, Sentinel's primary): INFO ALL, CONFIG GET maxmemory / maxclients /
 * io-threads, SLOWLOG LEN, SLOWLOG GET 1. Errors of the optional commands are ignored (managed
 * Redis often disables CONFIG); a failed AUTH or INFO fails the scrape. A Cluster target is
 * scraped at the first seed node that answers.
 */
export async function fetchRedisSnapshot(target: RedisTarget, opts: FetchOptions): Promise<RedisSnapshot> {
  if (target.topology !== 'cluster') return fetchFrom(target, opts);
  let last: unknown;
  for (const node of target.nodes) {
    try {
      return await fetchFrom({ ...target, topology: 'standalone', nodes: [node] }, opts);
    } catch (err) {
      last = err;
      if ((err as ScrapeError).reason === 'auth' || (err as ScrapeError).reason === 'tls') break;
    }
  }
  throw last;
}

async function fetchFrom(target: RedisTarget, opts: FetchOptions): Promise<RedisSnapshot> {
  const n = target.nodes[0]!;
  const where =
    target.topology === 'sentinel'
      ? `sentinel ${target.master}`
      : `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`;
  let client: Redis | undefined;
  let timer: NodeJS.Timeout | undefined;
  // ioredis rejects pending commands with "Connection is closed." after the error that closed
  // it (refused, AUTH, TLS, garbage): that error is the reason
  let lastError: Error | undefined;
  const aborted = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ScrapeError('timeout', `${where}: no complete reply within ${opts.timeoutMs}ms`)),
      opts.timeoutMs,
    );
    try {
      client = createRedisClient(target, {
        reconnect: false,
        lazyConnect: true,
        readyCheck: false,
        offlineQueue: true,
        commandTimeoutMs: 0,
        connectTimeoutMs: opts.timeoutMs,
        connectionName: 'dds-metrics-adapter',
      }) as Redis;
    } catch (err) {
      reject(scrapeError(err, where));
      return;
    }
    client.on('error', (err: Error) => {
      lastError ??= err;
    });
    client.on('connect', () => {
      let received = 0;
      client!.stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > opts.maxBytes) {
          reject(new ScrapeError('too_large', `${where}: reply larger than ${opts.maxBytes} bytes; aborted`));
          client!.disconnect();
        }
      });
    });
  });
  aborted.catch(() => {});
  try {
    return await Promise.race([aborted, snapshot(client!, where, () => lastError)]);
  } finally {
    clearTimeout(timer);
    client?.disconnect();
  }
}

async function snapshot(
  client: Redis,
  where: string,
  cause: () => Error | undefined,
): Promise<RedisSnapshot> {
  const reason = (err: Error) => (/Connection is closed/.test(err.message) ? (cause() ?? err) : err);
  try {
    await client.connect();
  } catch (err) {
    throw scrapeError(reason(err as Error), where);
  }
  const p = client.pipeline().info('all');
  for (const k of CONFIG_KEYS) p.config('GET', k);
  p.slowlog('LEN').slowlog('GET', 1);
  const replies = (await p.exec()) ?? [];
  const [firstErr, info] = replies[0] ?? [new Error('no reply'), undefined];
  if (firstErr) {
    const infoErr = reason(firstErr);
    const f = scrapeError(infoErr, where);
    // the connection failed (AUTH, TLS, garbage, closed): its own reason; INFO refused: say so
    if (infoErr !== firstErr) throw f;
    throw new ScrapeError(f.reason === 'auth' ? 'auth' : 'protocol', `INFO failed: ${infoErr.message}`);
  }
  if (typeof info !== 'string') throw new ScrapeError('protocol', 'INFO did not return a bulk string');
  const config = new Map<string, string>();
  for (let k = 0; k < CONFIG_KEYS.length; k++) addConfig(config, replies[1 + k]?.[1]);
  const slowlog = replies[1 + CONFIG_KEYS.length]?.[1];
  const last = slowlogLast(replies[2 + CONFIG_KEYS.length]?.[1]);
  return {
    info,
    config,
    ...(typeof slowlog === 'number' ? { slowlogLength: slowlog } : {}),
    ...(last ? { slowlogLast: last } : {}),
  };
}

function scrapeError(err: unknown, where: string): ScrapeError {
  if (err instanceof ScrapeError) return err;
  const f = redisFailure(err);
  const message =
    f.reason === 'protocol' && /Protocol error/.test(f.message)
      ? `${where}: malformed reply: ${f.message.replace(/\. Please report this\.$/, '')}`
      : f.reason === 'unreachable' || f.reason === 'tls'
        ? `${where}: ${f.message}`
        : f.message;
  return new ScrapeError(REASON[f.reason], message, { cause: err });
}

/** SLOWLOG GET 1 -> [[id, timestamp, micros, ...]] or [] */
function slowlogLast(reply: unknown): RedisSnapshot['slowlogLast'] {
  if (!Array.isArray(reply)) return undefined;
  if (reply.length === 0) return { id: 0, micros: 0 };
  const entry = reply[0];
  if (!Array.isArray(entry) || typeof entry[0] !== 'number' || typeof entry[2] !== 'number') return undefined;
  return { id: entry[0], micros: entry[2] };
}

function addConfig(into: Map<string, string>, reply: unknown): void {
  if (!Array.isArray(reply)) return;
  for (let j = 0; j + 1 < reply.length; j += 2) {
    const k = reply[j];
    const v = reply[j + 1];
    if (typeof k === 'string' && typeof v === 'string') into.set(k, v);
  }
}
