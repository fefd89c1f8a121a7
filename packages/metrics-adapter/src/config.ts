import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { zAddress, zDuration } from '@dds/core/config/schemas';
import { flagsOf, setting } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';
import { checkRedisSettings, redisConfigured, redisSettings } from '@dds/core/redis/redis-settings';
import { parseRedisUrl } from '@dds/core/redis/redis-target';

const S = 'Sources';
const L = 'Listeners';
const B = 'Behaviour';

export const settings = {
  ...redisSettings({
    group: S,
    urlHelp: 'Redis to scrape on /metrics: redis://[[user]:password@]host:port (rediss:// for TLS)',
    // redis_exporter's forms: a URL or a bare host:port
    url: z.string().check(
      z.superRefine((s, ctx) => {
        const t = s === '' ? undefined : parseRedisUrl(s);
        if (typeof t === 'string') ctx.addIssue({ code: 'custom', message: t });
      }),
    ),
  }),
  mysql: setting.string({
    help: 'MySQL/MariaDB to scrape: mysql://user@host:3306 (?tls=true)',
    metavar: 'URL',
    default: '',
    group: S,
    secret: true,
  }),
  mysqlPasswordFile: setting.string({
    help: 'file with the MySQL password (re-read on every scrape)',
    metavar: 'FILE',
    default: '',
    group: S,
  }),
  mysqlPassword: setting.string({
    help: 'MySQL password (prefer the env var or a file)',
    metavar: 'PASSWORD',
    default: '',
    group: S,
    secret: true,
  }),
  memcached: setting.string({
    help: 'memcached to scrape: host:port',
    metavar: 'HOST:PORT',
    default: '',
    group: S,
  }),
  memcachedSlabs: setting.boolean({
    help: 'also collect `stats slabs` (memcached_slab_* per slab class)',
    default: false,
    group: S,
  }),
  json: setting.string({
    help: 'JSON endpoint to scrape: http(s)://host:port/path (needs --json-config)',
    metavar: 'URL',
    default: '',
    group: S,
  }),
  jsonConfig: setting.string({
    help: 'json_exporter-style YAML mapping JSON paths to metrics (watched, hot-reloaded)',
    metavar: 'FILE',
    default: '',
    group: S,
  }),
  jsonModule: setting.string({
    help: 'module of --json-config used for /metrics',
    metavar: 'NAME',
    default: 'default',
    group: S,
    schema: z.string().check(z.minLength(1)),
  }),
  listen: setting.string({
    help: 'listen address when exactly one source is configured (overrides its own listen flag)',
    metavar: 'HOST:PORT',
    default: '',
    group: L,
    schema: z.union([z.literal(''), zAddress]),
  }),
  redisListen: setting.address({
    help: 'listener of the Redis source (/metrics, /scrape?target=)',
    default: '0.0.0.0:9121',
    group: L,
  }),
  mysqlListen: setting.address({
    help: 'listener of the MySQL source (/metrics, /probe?target=)',
    default: '0.0.0.0:9104',
    group: L,
  }),
  memcachedListen: setting.address({
    help: 'listener of the memcached source (/metrics, /scrape?target=)',
    default: '0.0.0.0:9150',
    group: L,
  }),
  jsonListen: setting.address({
    help: 'listener of the JSON source (/metrics, /probe?target=&module=)',
    default: '0.0.0.0:7979',
    group: L,
  }),
  naming: setting.string({
    help: 'compat (names of redis_exporter, mysqld_exporter, memcached_exporter) or strict (promtool-clean names)',
    metavar: 'MODE',
    default: 'compat',
    group: B,
    schema: z.enum(['compat', 'strict']),
  }),
  scrapeTimeout: setting.duration({
    help: 'deadline of one scrape of a target (lowered to X-Prometheus-Scrape-Timeout-Seconds)',
    default: 5000,
    group: B,
    schema: z.pipe(zDuration, z.number().check(z.minimum(10, 'at least 10ms'))),
  }),
  maxReplySize: setting.number({
    help: 'largest reply accepted from a target, in bytes',
    metavar: 'BYTES',
    default: 8 * 1024 * 1024,
    group: B,
    schema: z.number().check(z.int(), z.minimum(1024, 'at least 1024 bytes'), z.maximum(1024 * 1024 * 1024)),
  }),
};

export const flags = flagsOf(settings);

export const schema = configSchema(settings).check(
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
