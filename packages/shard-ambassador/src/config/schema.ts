import { type CommonConfig, commonSchema } from '@dds/core/config/schemas';
import { z } from 'zod';
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
  pools: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'pool names are letters, digits, _ . -'), poolSchema)
    .default({}),
  verbose: z.number().int().min(0).max(11).optional(),
  output: z.string().optional(),
  statsPort: z.number().int().min(0).max(65535),
  statsAddr: z.string().min(1),
  statsInterval: z.number().int().min(1),
  pidFile: z.string().optional(),
  mbufSize: z
    .number()
    .int()
    .min(512)
    .max(16 * 1024 * 1024),
  maxClients: z.number().int().min(1),
  maxRequestSize: z.number().int().min(1024),
  maxArrayLength: z.number().int().min(2),
  maxPending: z.number().int().min(1),
  hotkeys: z.strictObject({
    top: z.number().int().min(0).max(1000),
    window: z.number().min(1000),
    sample: z.number().int().min(1),
  }),
  quick: quickSchema,
});

/** Adds the quick-mode pools (flags only) and applies nutcracker's -v to the log level. */
export const schema = rawSchema.transform((c, ctx) => {
  const quick: Record<string, unknown> = {};
  const q = c.quick;
  const add = (name: string, extra: Record<string, unknown>, servers: string[]) => {
    if (servers.length === 0) return;
    if (c.pools[name]) {
      ctx.addIssue({
        code: 'custom',
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
      ctx.addIssue({ code: 'custom', path: ['pools', ...i.path.map(String)], message: i.message });
    return z.NEVER;
  }
  const pools = { ...c.pools, ...parsed.data };
  if (Object.keys(pools).length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['pools'],
      message: 'no pools: give -c nutcracker.yaml or --redis-servers/--memcache-servers/--http-servers',
    });
    return z.NEVER;
  }
  const listens = new Map<string, string>();
  for (const [name, p] of Object.entries(pools)) {
    const other = listens.get(p.listen);
    if (other)
      ctx.addIssue({
        code: 'custom',
        path: ['pools', name, 'listen'],
        message: `pools "${other}" and "${name}" have the same listen address ${p.listen}`,
      });
    listens.set(p.listen, name);
  }
  const logLevel = c.verbose === undefined ? c.logLevel : (VERBOSE_LEVELS[c.verbose] ?? 'trace');
  return { ...c, logLevel, pools };
});

export type AmbassadorConfig = Omit<z.infer<typeof rawSchema>, 'pools'> &
  CommonConfig & { pools: Record<string, PoolConfig> };
