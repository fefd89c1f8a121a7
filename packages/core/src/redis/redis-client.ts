import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { type RedisTarget, redisPassword, redisTlsOptions } from './redis-target.js';

export interface RedisClientOptions {
  /** a command slower than this fails (0: none) */
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  /** merge concurrent commands into one write (ioredis auto-pipelining) */
  autoPipelining?: boolean;
  /** queue commands while disconnected (false: fail at once) */
  offlineQueue?: boolean;
  /** reconnect with backoff (long-lived clients) or give up after the first failure (one-shot) */
  reconnect: boolean;
  /** connect on the first command instead of at once */
  lazyConnect?: boolean;
  /** name shown in CLIENT LIST */
  connectionName?: string;
  /** ask INFO for `loading` before reporting ready (default true; false: ready once connected) */
  readyCheck?: boolean;
}

export type RedisClient = Redis | Cluster;

const backoff = (times: number) => Math.min(50 * times, 1000);

/**
 * An ioredis client for the target: Redis for a server or a Sentinel-managed primary (ioredis asks
 * the sentinels and follows failovers), Cluster for a cluster (slot map, MOVED/ASK, failover).
 * TLS files and the password file are read here; a standalone or sentinel client re-reads the
 * password file before each reconnect.
 */
export function createRedisClient(t: RedisTarget, o: RedisClientOptions): RedisClient {
  const tls = redisTlsOptions(t);
  const password = redisPassword(t);
  const base: RedisOptions = {
    ...(t.username ? { username: t.username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(tls ? { tls } : {}),
    ...(o.connectionName ? { connectionName: o.connectionName } : {}),
    connectTimeout: o.connectTimeoutMs,
    ...(o.commandTimeoutMs > 0 ? { commandTimeout: o.commandTimeoutMs } : {}),
    enableOfflineQueue: o.offlineQueue ?? false,
    enableAutoPipelining: o.autoPipelining ?? false,
    maxRetriesPerRequest: o.reconnect ? 0 : null,
    retryStrategy: o.reconnect ? backoff : () => null,
    lazyConnect: o.lazyConnect ?? false,
    enableReadyCheck: o.readyCheck ?? true,
    // CLIENT SETINFO is Redis 7.2+: on older servers each connection would add two errors to
    // the server's errorstats (what an exporter reports and operators alert on)
    disableClientInfo: true,
  };
  if (t.topology === 'cluster') {
    return new Cluster(t.nodes, {
      redisOptions: { ...base, maxRetriesPerRequest: 0 },
      enableOfflineQueue: o.offlineQueue ?? false,
      enableAutoPipelining: o.autoPipelining ?? false,
      clusterRetryStrategy: o.reconnect ? backoff : () => null,
      lazyConnect: o.lazyConnect ?? false,
      scaleReads: 'master',
      // a failed-over slot is looked up again soon; a refresh is one CLUSTER SLOTS
      slotsRefreshInterval: 2000,
      slotsRefreshTimeout: Math.max(1000, o.connectTimeoutMs),
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      // TLS certificates name the configured host, not the IPs the cluster announces
      ...(tls ? { dnsLookup: (address, cb) => cb(null, address) } : {}),
    });
  }
  const client =
    t.topology === 'sentinel'
      ? new Redis({
          ...base,
          sentinels: t.nodes,
          name: t.master!,
          role: 'master',
          db: t.db,
          enableTLSForSentinelMode: t.tls,
          ...(tls ? { sentinelTLS: tls } : {}),
          sentinelRetryStrategy: o.reconnect ? backoff : () => null,
          // subscribe to +switch-master: reconnect to the new primary at once, not at the next error
          failoverDetector: o.reconnect,
        })
      : new Redis({ ...base, host: t.nodes[0]!.host, port: t.nodes[0]!.port, db: t.db });
  if (t.passwordFile && o.reconnect) {
    client.on('reconnecting', () => {
      try {
        client.options.password = redisPassword(t);
      } catch {
        // keep the last password: the connect attempt reports the failure
      }
    });
  }
  return client;
}
