import type { FlagSpec } from '../config/flags.js';
import * as z from '../config/zod.js';

/**
 * How a component reaches Redis: one standalone server (`--redis URL`), a Cluster (seed nodes) or
 * a Sentinel-managed primary, with TLS and an ACL user. The same flags, env vars and YAML keys in
 * every component that talks to Redis as a client.
 */
export interface RedisSettings {
  /** redis://[[user]:password@]host:port[/db] or rediss:// (TLS); '' when another topology or none */
  redis: string;
  /** Cluster seed nodes: host:port or redis[s]://host:port */
  redisCluster: string[];
  /** Sentinels: host:port or redis[s]://host:port */
  redisSentinel: string[];
  redisSentinelMaster: string;
  redisUsername: string;
  redisPassword: string;
  redisPasswordFile: string;
  redisTlsCaFile: string;
  redisTlsCertFile: string;
  redisTlsKeyFile: string;
  redisTlsSkipVerify: boolean;
}

export interface RedisFlagOptions {
  /** --help group heading */
  group: string;
  /** help of --redis in this component */
  urlHelp: string;
  /** what the connection is used for, in the help of the topology flags */
  what?: string;
}

/** The Redis connection flags, `--redis` first. */
export function redisFlags(o: RedisFlagOptions): FlagSpec[] {
  const group = o.group;
  return [
    { name: 'redis', type: 'string', help: o.urlHelp, metavar: 'URL', default: '', secret: true, group },
    {
      name: 'redis-cluster',
      type: 'list',
      help: 'Redis Cluster seed nodes instead of --redis (rediss:// entries for TLS)',
      metavar: 'HOST:PORT,...',
      default: [],
      group,
    },
    {
      name: 'redis-sentinel',
      type: 'list',
      help: 'Sentinels that name the primary instead of --redis (needs --redis-sentinel-master)',
      metavar: 'HOST:PORT,...',
      default: [],
      group,
    },
    {
      name: 'redis-sentinel-master',
      type: 'string',
      help: 'name of the primary the sentinels monitor',
      metavar: 'NAME',
      default: '',
      group,
    },
    {
      name: 'redis-username',
      type: 'string',
      help: 'ACL user (AUTH username password); default: the URL user or "default"',
      metavar: 'NAME',
      default: '',
      group,
    },
    {
      name: 'redis-password',
      type: 'string',
      help: 'Redis password (prefer --redis-password-file or the env var)',
      metavar: 'PASSWORD',
      default: '',
      secret: true,
      group,
    },
    {
      name: 'redis-password-file',
      type: 'string',
      help: 'file with the Redis password (re-read on every new connection)',
      metavar: 'FILE',
      default: '',
      group,
    },
    {
      name: 'redis-tls-ca-file',
      type: 'string',
      help: 'CA bundle for rediss:// (default: the system CAs)',
      metavar: 'FILE',
      default: '',
      group,
    },
    {
      name: 'redis-tls-cert-file',
      type: 'string',
      help: 'client certificate for rediss:// servers that require one',
      metavar: 'FILE',
      default: '',
      group,
    },
    {
      name: 'redis-tls-key-file',
      type: 'string',
      help: 'key of --redis-tls-cert-file',
      metavar: 'FILE',
      default: '',
      group,
    },
    {
      name: 'redis-tls-skip-verify',
      type: 'boolean',
      help: 'do not verify the server certificate of rediss:// (testing only)',
      default: false,
      group,
    },
  ];
}

const NODE = /^(?:(rediss?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/@[\]]+):(\d{1,5})\/?$/;

/** `host:port`, `[v6]:port` or `redis[s]://host:port` -> parts, or an error message. */
export function parseRedisNode(s: string): { host: string; port: number; tls: boolean } | string {
  const m = NODE.exec(s.trim());
  const port = Number(m?.[3]);
  if (!m || !(port > 0 && port < 65536)) return `"${s}" is not HOST:PORT or redis[s]://HOST:PORT`;
  return { host: m[2]!.replace(/^\[(.*)\]$/, '$1'), port, tls: m[1] === 'rediss' };
}

/** The zod fields of RedisSettings, to spread into a component's strictObject. */
export const redisSchema = {
  redis: z.union([
    z.literal(''),
    z
      .string()
      .check(z.regex(/^rediss?:\/\/\S+$/, 'expected redis://[[user]:password@]host:port[/db] or rediss://')),
  ]),
  redisCluster: z.array(z.string()),
  redisSentinel: z.array(z.string()),
  redisSentinelMaster: z.string(),
  redisUsername: z.string(),
  redisPassword: z.string(),
  redisPasswordFile: z.string(),
  redisTlsCaFile: z.string(),
  redisTlsCertFile: z.string(),
  redisTlsKeyFile: z.string(),
  redisTlsSkipVerify: z.boolean(),
};

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
