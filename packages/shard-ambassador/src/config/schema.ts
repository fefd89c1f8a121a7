import { accessLogSchema } from '@dds/core/access-log/access-log-config';
import { type CommonConfig, commonSchema } from '@dds/core/config/common-flags';
import { addIssue, zDuration } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { type PoolConfig, poolSchema } from './pool-schema.js';

const VERBOSE_LEVELS = [
  'error',
  'error',
  'error',
  'error',
  'warn',
  'info',
  'info',
  'debug',
  'debug',
] as const;

const quickSchema = z.strictObject({
  redisServers: z.array(z.string()),
  redisListen: z.string(),
  memcacheServers: z.array(z.string()),
  memcacheListen: z.string(),
  httpServers: z.array(z.string()),
  httpListen: z.string(),
  httpShardKey: z.string(),
});

const rawSchema = z.strictObject({
  ...commonSchema,
  ...accessLogSchema,
  pools: z._default(
    z.record(
      z.string().check(z.regex(/^[A-Za-z0-9_.-]+$/, 'pool names are letters, digits, _ . -')),
      poolSchema,
    ),
    {},
  ),
  verbose: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(11))),
  output: z.optional(z.string()),
  statsPort: z.number().check(z.int(), z.minimum(0), z.maximum(65535)),
  statsAddr: z.string().check(z.minLength(1)),
  statsInterval: z.number().check(z.int(), z.minimum(1)),
  pidFile: z.optional(z.string()),
  mbufSize: z.number().check(z.int(), z.minimum(512), z.maximum(16 * 1024 * 1024)),
  maxClients: z.number().check(z.int(), z.minimum(1)),
  maxRequestSize: z.number().check(z.int(), z.minimum(1024)),
  maxArrayLength: z.number().check(z.int(), z.minimum(2)),
  maxPending: z.number().check(z.int(), z.minimum(1)),
  maxInputBuffer: z.number().check(z.int(), z.minimum(64 * 1024)),
  clientOutputHighWater: z.number().check(z.int(), z.minimum(64 * 1024)),
  clientOutputLimit: z.number().check(z.int(), z.minimum(1024 * 1024)),
  clientIdleTimeout: zDuration,
  redisMaxInline: z.number().check(z.int(), z.minimum(1024)),
  memcacheMaxLine: z.number().check(z.int(), z.minimum(256)),
  memcacheMaxKeyLength: z.number().check(z.int(), z.minimum(1), z.maximum(65_536)),
  memcacheMaxValue: z.number().check(z.int(), z.minimum(1)),
  hotkeys: z.strictObject({
    top: z.number().check(z.int(), z.minimum(0), z.maximum(1000)),
    window: z.pipe(zDuration, z.number().check(z.minimum(1000, 'must be at least 1s'))),
    sample: z.number().check(z.int(), z.minimum(1)),
    metricKeys: z.enum(['hash', 'name', 'off']),
  }),
  quick: quickSchema,
});

/** Adds the quick-mode pools (flags only) and applies nutcracker's -v to the log level. */
export const schema = z.pipe(
  rawSchema,
  z.transform((c, ctx) => {
    const quick: Record<string, unknown> = {};
    const q = c.quick;
    const add = (name: string, extra: Record<string, unknown>, servers: string[]) => {
      if (servers.length === 0) return;
      if (c.pools[name]) {
        addIssue(ctx, {
          path: ['pools', name],
          message: `pool "${name}" is also defined by --${name}-servers`,
        });
        return;
      }
      quick[name] = { ...extra, servers };
    };
    add('redis', { listen: q.redisListen, redis: true }, q.redisServers);
    add('memcache', { listen: q.memcacheListen }, q.memcacheServers);
    add('http', { listen: q.httpListen, http: true, shard_key: q.httpShardKey }, q.httpServers);
    const parsed = z.record(z.string(), poolSchema).safeParse(quick);
    if (!parsed.success) {
      for (const i of parsed.error.issues)
        addIssue(ctx, { path: ['pools', ...i.path.map(String)], message: i.message });
      return z.NEVER;
    }
    const pools = { ...c.pools, ...parsed.data };
    if (Object.keys(pools).length === 0) {
      addIssue(ctx, {
        path: ['pools'],
        message: 'no pools: give -c nutcracker.yaml or --redis-servers/--memcache-servers/--http-servers',
      });
      return z.NEVER;
    }
    const listens = new Map<string, string>();
    for (const [name, p] of Object.entries(pools)) {
      const other = listens.get(p.listen);
      if (other)
        addIssue(ctx, {
          path: ['pools', name, 'listen'],
          message: `pools "${other}" and "${name}" have the same listen address ${p.listen}`,
        });
      listens.set(p.listen, name);
    }
    const logLevel = c.verbose === undefined ? c.logLevel : (VERBOSE_LEVELS[c.verbose] ?? 'trace');
    return { ...c, logLevel, pools };
  }),
);

export type AmbassadorConfig = Omit<z.infer<typeof rawSchema>, 'pools'> &
  CommonConfig & { pools: Record<string, PoolConfig> };
