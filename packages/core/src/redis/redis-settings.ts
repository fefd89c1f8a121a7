import { type ShapeOf, setting } from '../config/settings.js';
import * as z from '../config/zod.js';

/**
 * How a component reaches Redis: one standalone server (`--redis URL`), a Cluster (seed nodes) or
 * a Sentinel-managed primary, with TLS and an ACL user. The same flags, env vars and YAML keys in
 * every component that talks to Redis as a client.
 */
export interface RedisSettingsOptions {
  /** --help group heading */
  group: string;
  /** help of --redis in this component */
  urlHelp: string;
  /** what --redis accepts in this component (default: '' or a redis:// or rediss:// URL) */
  url?: z.ZodMiniType<string>;
}

const zRedisUrl: z.ZodMiniType<string> = z.union([
  z.literal(''),
  z
    .string()
    .check(z.regex(/^rediss?:\/\/\S+$/, 'expected redis://[[user]:password@]host:port[/db] or rediss://')),
]);

/** The Redis connection settings, `--redis` first. */
export function redisSettings(o: RedisSettingsOptions) {
  const group = o.group;
  return {
    /** redis://[[user]:password@]host:port[/db] or rediss:// (TLS); '' when another topology or none */
    redis: setting.string({
      help: o.urlHelp,
      metavar: 'URL',
      default: '',
      secret: true,
      group,
      schema: o.url ?? zRedisUrl,
    }),
    /** Cluster seed nodes: host:port or redis[s]://host:port */
    redisCluster: setting.list({
      help: 'Redis Cluster seed nodes instead of --redis (rediss:// entries for TLS)',
      metavar: 'HOST:PORT,...',
      default: [],
      group,
    }),
    /** Sentinels: host:port or redis[s]://host:port */
    redisSentinel: setting.list({
      help: 'Sentinels that name the primary instead of --redis (needs --redis-sentinel-master)',
      metavar: 'HOST:PORT,...',
      default: [],
      group,
    }),
    redisSentinelMaster: setting.string({
      help: 'name of the primary the sentinels monitor',
      metavar: 'NAME',
      default: '',
      group,
    }),
    redisUsername: setting.string({
      help: 'ACL user (AUTH username password); default: the URL user or "default"',
      metavar: 'NAME',
      default: '',
      group,
    }),
    redisPassword: setting.string({
      help: 'Redis password (prefer --redis-password-file or the env var)',
      metavar: 'PASSWORD',
      default: '',
      secret: true,
      group,
    }),
    redisPasswordFile: setting.string({
      help: 'file with the Redis password (re-read on every new connection)',
      metavar: 'FILE',
      default: '',
      group,
    }),
    redisTlsCaFile: setting.string({
      help: 'CA bundle for rediss:// (default: the system CAs)',
      metavar: 'FILE',
      default: '',
      group,
    }),
    redisTlsCertFile: setting.string({
      help: 'client certificate for rediss:// servers that require one',
      metavar: 'FILE',
      default: '',
      group,
    }),
    redisTlsKeyFile: setting.string({
      help: 'key of --redis-tls-cert-file',
      metavar: 'FILE',
      default: '',
      group,
    }),
    redisTlsSkipVerify: setting.boolean({
      help: 'do not verify the server certificate of rediss:// (testing only)',
      default: false,
      group,
    }),
  };
}

export type RedisSettings = z.infer<z.ZodMiniObject<ShapeOf<ReturnType<typeof redisSettings>>>>;

const NODE = /^(?:(rediss?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/@[\]]+):(\d{1,5})\/?$/;

/** `host:port`, `[v6]:port` or `redis[s]://host:port` -> parts, or an error message. */
export function parseRedisNode(s: string): { host: string; port: number; tls: boolean } | string {
  const m = NODE.exec(s.trim());
  const port = Number(m?.[3]);
  if (!m || !(port > 0 && port < 65536)) return `"${s}" is not HOST:PORT or redis[s]://HOST:PORT`;
  return { host: m[2]!.replace(/^\[(.*)\]$/, '$1'), port, tls: m[1] === 'rediss' };
}

/** Cross-field rules of RedisSettings, for the component schema's superRefine. */
export function checkRedisSettings(c: RedisSettings, ctx: z.core.$RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  const given = [
    c.redis && 'redis',
    c.redisCluster.length && 'redisCluster',
    c.redisSentinel.length && 'redisSentinel',
  ].filter(Boolean);
  if (given.length > 1)
    issue(
      String(given[1]),
      `choose one of --redis, --redis-cluster and --redis-sentinel (got ${given.join(', ')})`,
    );
  for (const key of ['redisCluster', 'redisSentinel'] as const) {
    const nodes = c[key].map(parseRedisNode);
    nodes.forEach((n, i) => {
      if (typeof n === 'string') ctx.addIssue({ code: 'custom', path: [key, i], message: n });
    });
    const schemes = new Set(nodes.filter((n) => typeof n !== 'string').map((n) => n.tls));
    if (schemes.size > 1) issue(key, 'mix of redis:// and rediss:// entries: use one scheme for all');
  }
  if (c.redisSentinel.length && !c.redisSentinelMaster)
    issue('redisSentinelMaster', '--redis-sentinel needs --redis-sentinel-master NAME');
  if (c.redisSentinelMaster && !c.redisSentinel.length)
    issue('redisSentinelMaster', 'only with --redis-sentinel');
  if (c.redisPassword && c.redisPasswordFile)
    issue('redisPasswordFile', 'give --redis-password or --redis-password-file, not both');
  if (!!c.redisTlsCertFile !== !!c.redisTlsKeyFile)
    issue(
      c.redisTlsCertFile ? 'redisTlsKeyFile' : 'redisTlsCertFile',
      'client certificate and key go together',
    );
}

/** True when any Redis topology is configured. */
export const redisConfigured = (c: RedisSettings): boolean =>
  c.redis !== '' || c.redisCluster.length > 0 || c.redisSentinel.length > 0;
