import { type CommonConfig, commonSchema } from '@dds/core/config/common-flags';
import type { FlagSpec } from '@dds/core/config/flags';
import { zAddress, zDuration } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { checkRedisSettings, redisConfigured, redisFlags, redisSchema } from '@dds/core/redis/redis-settings';
import { parseRedisUrl } from '@dds/core/redis/redis-target';

const S = 'Sources';
const L = 'Listeners';
const B = 'Behaviour';

export const flags: FlagSpec[] = [
  ...redisFlags({
    group: S,
    urlHelp: 'Redis to scrape on /metrics: redis://[[user]:password@]host:port (rediss:// for TLS)',
  }),
  {
    name: 'mysql',
    type: 'string',
    help: 'MySQL/MariaDB to scrape: mysql://user@host:3306 (?tls=true)',
    metavar: 'URL',
    default: '',
    group: S,
    secret: true,
  },
  {
    name: 'mysql-password-file',
    type: 'string',
    help: 'file with the MySQL password (re-read on every scrape)',
    metavar: 'FILE',
    default: '',
    group: S,
  },
  {
    name: 'mysql-password',
    type: 'string',
    help: 'MySQL password (prefer the env var or a file)',
    metavar: 'PASSWORD',
    default: '',
    group: S,
    secret: true,
  },
  {
    name: 'memcached',
    type: 'string',
    help: 'memcached to scrape: host:port',
    metavar: 'HOST:PORT',
    default: '',
    group: S,
  },
  {
    name: 'memcached-slabs',
    type: 'boolean',
    help: 'also collect `stats slabs` (memcached_slab_* per slab class)',
    default: false,
    group: S,
  },
  {
    name: 'json',
    type: 'string',
    help: 'JSON endpoint to scrape: http(s)://host:port/path (needs --json-config)',
    metavar: 'URL',
    default: '',
    group: S,
  },
  {
    name: 'json-config',
    type: 'string',
    help: 'json_exporter-style YAML mapping JSON paths to metrics (watched, hot-reloaded)',
    metavar: 'FILE',
    default: '',
    group: S,
  },
  {
    name: 'json-module',
    type: 'string',
    help: 'module of --json-config used for /metrics',
    metavar: 'NAME',
    default: 'default',
    group: S,
  },
  {
    name: 'listen',
    type: 'string',
    help: 'listen address when exactly one source is configured (overrides its own listen flag)',
    metavar: 'HOST:PORT',
    default: '',
    group: L,
  },
  {
    name: 'redis-listen',
    type: 'string',
    help: 'listener of the Redis source (/metrics, /scrape?target=)',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:9121',
    group: L,
  },
  {
    name: 'mysql-listen',
    type: 'string',
    help: 'listener of the MySQL source (/metrics, /probe?target=)',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:9104',
    group: L,
  },
  {
    name: 'memcached-listen',
    type: 'string',
    help: 'listener of the memcached source (/metrics, /scrape?target=)',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:9150',
    group: L,
  },
  {
    name: 'json-listen',
    type: 'string',
    help: 'listener of the JSON source (/metrics, /probe?target=&module=)',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:7979',
    group: L,
  },
  {
    name: 'naming',
    type: 'string',
    help: 'compat (names of redis_exporter, mysqld_exporter, memcached_exporter) or strict (promtool-clean names)',
    metavar: 'MODE',
    default: 'compat',
    group: B,
  },
  {
    name: 'scrape-timeout',
    type: 'duration',
    help: 'deadline of one scrape of a target (lowered to X-Prometheus-Scrape-Timeout-Seconds)',
    default: 5000,
    group: B,
  },
  {
    name: 'max-reply-size',
    type: 'number',
    help: 'largest reply accepted from a target, in bytes',
    metavar: 'BYTES',
    default: 8 * 1024 * 1024,
    group: B,
  },
];

export const schema = z
  .strictObject({
    ...commonSchema,
    ...redisSchema,
    // redis_exporter's forms: a URL or a bare host:port
    redis: z.string().check(
      z.superRefine((s, ctx) => {
        const t = s === '' ? undefined : parseRedisUrl(s);
        if (typeof t === 'string') ctx.addIssue({ code: 'custom', message: t });
      }),
    ),
    mysql: z.string(),
    mysqlPasswordFile: z.string(),
    mysqlPassword: z.string(),
    memcached: z.string(),
    memcachedSlabs: z.boolean(),
    json: z.string(),
    jsonConfig: z.string(),
    jsonModule: z.string().check(z.minLength(1)),
    listen: z.union([z.literal(''), zAddress]),
    redisListen: zAddress,
    mysqlListen: zAddress,
    memcachedListen: zAddress,
    jsonListen: zAddress,
    naming: z.enum(['compat', 'strict']),
    scrapeTimeout: z.pipe(zDuration, z.number().check(z.minimum(10, 'at least 10ms'))),
    maxReplySize: z
      .number()
      .check(z.int(), z.minimum(1024, 'at least 1024 bytes'), z.maximum(1024 * 1024 * 1024)),
  })
  .check(
    z.superRefine((c, ctx) => {
      checkRedisSettings(c, ctx);
      const enabled = [redisConfigured(c), c.mysql, c.memcached, c.json].filter(Boolean).length;
      if (enabled === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['redis'],
          message:
            'configure at least one source: --redis (or --redis-cluster, --redis-sentinel), --mysql, --memcached or --json',
        });
      if (c.listen && enabled > 1)
        ctx.addIssue({
          code: 'custom',
          path: ['listen'],
          message: 'only with a single source; use --redis-listen, --mysql-listen, ... instead',
        });
      if (c.json && !c.jsonConfig)
        ctx.addIssue({ code: 'custom', path: ['jsonConfig'], message: '--json needs --json-config FILE' });
    }),
  );

export type AdapterConfig = z.infer<typeof schema> & CommonConfig;
