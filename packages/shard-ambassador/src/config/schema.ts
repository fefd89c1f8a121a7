import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { addIssue } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { settings } from './flags.js';
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

const rawSchema = configSchema(settings, {
  pools: z._default(
    z.record(
      z.string().check(z.regex(/^[A-Za-z0-9_.-]+$/, 'pool names are letters, digits, _ . -')),
      poolSchema,
    ),
    {},
  ),
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
