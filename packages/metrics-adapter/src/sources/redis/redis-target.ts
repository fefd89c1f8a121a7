import type { Endpoint } from '../socket-exchange.js';

export interface RedisTarget extends Endpoint {
  username?: string;
  password?: string;
}

/**
 * Parses a redis_exporter style address: `redis://[[user]:password@]host[:port]`, `rediss://`
 * for TLS, or a bare `host:port`. Returns an error message for the config layer.
 */
export function parseRedisTarget(input: string): RedisTarget | string {
  const s = input.trim();
  const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `redis://${s}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return `invalid Redis address "${input}" (expected redis://[:password@]host:port)`;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    return `unsupported scheme "${u.protocol}" (expected redis:// or rediss://)`;
  if (!u.hostname) return `missing host in "${input}"`;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port ? Number(u.port) : 6379;
  const t: RedisTarget = { host, port, tls: u.protocol === 'rediss:' };
  if (u.password) t.password = decodeURIComponent(u.password);
  if (u.username) t.username = decodeURIComponent(u.username);
  return t;
}
