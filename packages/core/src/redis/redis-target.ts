import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { redactUrl } from '../config/redact.js';
import { DdsError } from '../errors.js';
import { parseRedisNode, type RedisSettings } from './redis-settings.js';

export type RedisTopology = 'standalone' | 'cluster' | 'sentinel';

/** Where and how to connect, resolved from RedisSettings (or a scrape target). */
export interface RedisTarget {
  topology: RedisTopology;
  /** the server (standalone), the seed nodes (cluster) or the sentinels */
  nodes: { host: string; port: number }[];
  /** Sentinel: the primary's name */
  master?: string;
  db: number;
  tls: boolean;
  username?: string;
  /** a literal password (URL or --redis-password); passwordFile wins when both are set */
  password?: string;
  passwordFile?: string;
  tlsCaFile?: string;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsSkipVerify?: boolean;
}

/** The target the settings describe, or undefined when no Redis is configured. */
export function redisTarget(s: RedisSettings): RedisTarget | undefined {
  const common = {
    ...(s.redisUsername ? { username: s.redisUsername } : {}),
    ...(s.redisPassword ? { password: s.redisPassword } : {}),
    ...(s.redisPasswordFile ? { passwordFile: s.redisPasswordFile } : {}),
    ...(s.redisTlsCaFile ? { tlsCaFile: s.redisTlsCaFile } : {}),
    ...(s.redisTlsCertFile ? { tlsCertFile: s.redisTlsCertFile } : {}),
    ...(s.redisTlsKeyFile ? { tlsKeyFile: s.redisTlsKeyFile } : {}),
    tlsSkipVerify: s.redisTlsSkipVerify,
  };
  const nodesOf = (list: string[]) => {
    const parsed = list.map((n) => parseRedisNode(n) as Exclude<ReturnType<typeof parseRedisNode>, string>);
    return { nodes: parsed.map(({ host, port }) => ({ host, port })), tls: parsed.some((n) => n.tls) };
  };
  if (s.redisCluster.length) return { topology: 'cluster', db: 0, ...nodesOf(s.redisCluster), ...common };
  if (s.redisSentinel.length)
    return {
      topology: 'sentinel',
      master: s.redisSentinelMaster,
      db: 0,
      ...nodesOf(s.redisSentinel),
      ...common,
    };
  if (!s.redis) return undefined;
  const t = parseRedisUrl(s.redis);
  if (typeof t === 'string') throw new Error(t);
  return {
    ...t,
    ...common,
    // flags win over the URL's user and password
    username: s.redisUsername || t.username,
    ...(s.redisPassword || t.password ? { password: s.redisPassword || t.password } : {}),
  } as RedisTarget;
}

/**
 * `redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS, or a bare `host:port`
 * (redis_exporter's forms). Returns an error message for the config layer.
 */
export function parseRedisUrl(input: string): RedisTarget | string {
  const s = input.trim();
  const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `redis://${s}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return `invalid Redis address "${redactUrl(input)}" (expected redis://[:password@]host:port)`;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    return `unsupported scheme "${u.protocol}" (expected redis:// or rediss://)`;
  if (!u.hostname) return `missing host in "${redactUrl(input)}"`;
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) return `database "${u.pathname.slice(1)}" is not a number`;
  return {
    topology: 'standalone',
    nodes: [{ host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port ? Number(u.port) : 6379 }],
    db,
    tls: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** The target as safe to log: no password. */
export function describeRedisTarget(t: RedisTarget): string {
  const scheme = t.tls ? 'rediss' : 'redis';
  const list = t.nodes.map((n) => `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`).join(',');
  const user = t.username ? `${t.username}@` : '';
  if (t.topology === 'cluster') return `cluster ${scheme}://${user}${list}`;
  if (t.topology === 'sentinel') return `sentinel ${t.master} via ${scheme}://${list}`;
  return `${scheme}://${user}${list}${t.db ? `/${t.db}` : ''}`;
}

/** The password to send now: the file is read on every call, so a rotated Secret applies. */
export function redisPassword(t: RedisTarget): string | undefined {
  if (t.passwordFile) {
    try {
      return readFileSync(t.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new RedisConfigError(
        `cannot read password file ${t.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  }
  return t.password;
}

/** TLS options for tls.connect, files read now; undefined without TLS. */
export function redisTlsOptions(t: RedisTarget): ConnectionOptions | undefined {
  if (!t.tls) return undefined;
  const read = (what: string, f: string | undefined) => {
    if (!f) return undefined;
    try {
      return readFileSync(f);
    } catch (err) {
      throw new RedisConfigError(`cannot read ${what} ${f}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  };
  const ca = read('CA file', t.tlsCaFile);
  const cert = read('certificate file', t.tlsCertFile);
  const key = read('key file', t.tlsKeyFile);
  return {
    rejectUnauthorized: !t.tlsSkipVerify,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

/**
 * A setting that cannot work (unreadable file): reported as such, never retried into a loop. At
 * start (and under --check-config) it is a configuration error: exit 2 with the message.
 */
export class RedisConfigError extends DdsError {
  constructor(message: string) {
    super('DDS_CONFIG_INVALID', message);
    this.name = 'RedisConfigError';
  }
}
