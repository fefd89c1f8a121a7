import type { RedisFailureReason } from '@dds/core/redis/redis-failure';
import {
  type RedisCommands,
  type RedisConnections,
  RedisReplyError,
  RedisSessionError,
  StaleRedisConnection,
} from '@dds/core/redis/redis-session';
import type { RedisTarget } from '@dds/core/redis/redis-target';
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
 * What a scrape needs, in one pipelined round trip on the target's kept connection (core's
 * RedisConnections: AUTH with the ACL user, TLS, Sentinel's primary, opened again when the
 * password or TLS files change): INFO ALL, CONFIG GET maxmemory / maxclients / io-threads,
 * SLOWLOG LEN, SLOWLOG GET 1. Errors of the optional commands are ignored (managed Redis often
 * disables CONFIG); a failed AUTH or INFO fails the scrape. A Cluster target is scraped at the
 * first seed node that answers.
 */
export async function fetchRedisSnapshot(
  connections: RedisConnections,
  target: RedisTarget,
  opts: FetchOptions,
): Promise<RedisSnapshot> {
  if (target.topology !== 'cluster') return fetchFrom(connections, target, opts);
  let last: unknown;
  for (const node of target.nodes) {
    try {
      return await fetchFrom(connections, { ...target, topology: 'standalone', nodes: [node] }, opts);
    } catch (err) {
      last = err;
      if ((err as ScrapeError).reason === 'auth' || (err as ScrapeError).reason === 'tls') break;
    }
  }
  throw last;
}

async function fetchFrom(
  connections: RedisConnections,
  target: RedisTarget,
  opts: FetchOptions,
): Promise<RedisSnapshot> {
  try {
    return await connections.session(
      target,
      { timeoutMs: opts.timeoutMs, maxBytes: opts.maxBytes },
      (redis) => snapshot(redis, target.topology === 'sentinel'),
    );
  } catch (err) {
    if (err instanceof RedisSessionError || err instanceof ScrapeError) throw scrapeError(err);
    // INFO's own error reply
    const message = (err as Error)?.message ?? String(err);
    throw new ScrapeError(
      /^(NOAUTH|WRONGPASS|NOPERM)/.test(message) ? 'auth' : 'protocol',
      `INFO failed: ${message}`,
    );
  }
}

const COMMANDS = [
  ['INFO', 'ALL'],
  ...CONFIG_KEYS.map((k) => ['CONFIG', 'GET', k]),
  ['SLOWLOG', 'LEN'],
  ['SLOWLOG', 'GET', '1'],
] as const;

async function snapshot(redis: RedisCommands, sentinel: boolean): Promise<RedisSnapshot> {
  const replies = await redis.pipeline(COMMANDS);
  const info = replies[0];
  if (info instanceof RedisReplyError)
    throw new ScrapeError(
      /^(NOAUTH|WRONGPASS|NOPERM)/.test(info.message) ? 'auth' : 'protocol',
      `INFO failed: ${info.message}`,
    );
  if (typeof info !== 'string') throw new ScrapeError('protocol', 'INFO did not return a bulk string');
  // a kept connection to the sentinels' primary that has since become a replica: ask them again
  if (sentinel && redis.reused && !/^role:master\r?$/m.test(info))
    throw new StaleRedisConnection('the kept connection is no longer to the primary');
  const config = new Map<string, string>();
  for (let k = 0; k < CONFIG_KEYS.length; k++) addConfig(config, replies[1 + k]);
  const slowlog = replies[1 + CONFIG_KEYS.length];
  const last = slowlogLast(replies[2 + CONFIG_KEYS.length]);
  return {
    info,
    config,
    ...(typeof slowlog === 'number' ? { slowlogLength: slowlog } : {}),
    ...(last ? { slowlogLast: last } : {}),
  };
}

function scrapeError(err: unknown): ScrapeError {
  if (err instanceof ScrapeError) return err;
  if (!(err instanceof RedisSessionError))
    return new ScrapeError('error', String((err as Error)?.message ?? err));
  const at = `${err.where}: `;
  switch (err.reason) {
    case 'too_large':
      return new ScrapeError('too_large', `${at}${err.message}; aborted`, { cause: err });
    case 'timeout':
      return new ScrapeError('timeout', `${at}${err.message}`, { cause: err });
    case 'auth':
      return new ScrapeError('auth', `authentication failed: ${err.message}`, { cause: err });
    case 'protocol':
      return new ScrapeError(
        'protocol',
        /Protocol error/.test(err.message)
          ? `${at}malformed reply: ${err.message.replace(/\. Please report this\.$/, '')}`
          : `${at}${err.message}`,
        { cause: err },
      );
    default:
      return new ScrapeError(REASON[err.reason], `${at}${err.message}`, { cause: err });
  }
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
