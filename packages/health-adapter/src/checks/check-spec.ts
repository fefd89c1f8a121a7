import { addIssue, zAddress, zDuration } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { checkRedisSettings } from '@dds/core/redis/redis-settings';

/** Names become URL paths (/readyz/<name>) and metric label values. */
const zName = z
  .string()
  .check(
    z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-", at most 63 characters'),
  );

/** Where a database or Redis password comes from; never the URL (it would be logged). */
const secret = {
  /** literal password in the config file (redacted from /config) */
  password: z.optional(z.string()),
  /** file holding the password, read at every run so a rotated Secret is picked up */
  passwordFile: z.optional(z.string()),
  /** environment variable holding the password */
  passwordEnv: z.optional(z.string()),
};

export const urlWithoutPassword = (protocols: string[], example: string) =>
  z.string().check(
    z.superRefine((s, ctx) => {
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a URL like ${example}` });
        return;
      }
      if (!protocols.includes(u.protocol))
        ctx.addIssue({ code: 'custom', message: `expected a URL like ${example}` });
      else if (u.password)
        ctx.addIssue({
          code: 'custom',
          message: 'no password in the URL (it would be logged): use password, passwordFile or passwordEnv',
        });
    }),
  );

/** TLS to a database or Redis (rediss:// turns it on too); the CA file is re-read at every run. */
const tls = {
  tls: z._default(z.boolean(), false),
  /** PEM file of the CA(s) to trust instead of the system store */
  tlsCa: z.optional(z.string()),
  /** accept any server certificate (test setups only) */
  tlsInsecure: z._default(z.boolean(), false),
};

/** Settings every check shares; absent ones take the global --interval, --timeout, ... */
const common = {
  name: zName,
  critical: z._default(z.boolean(), true),
  interval: z.optional(z.pipe(zDuration, z.number().check(z.minimum(100, 'at least 100ms')))),
  timeout: z.optional(z.pipe(zDuration, z.number().check(z.minimum(1, 'at least 1ms')))),
  successThreshold: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(1000))),
  failureThreshold: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(1000))),
};

/** "200-399", "200,204", "200-299,301" -> list of [lo, hi] */
export const zStatusRanges = z.pipe(
  z.string(),
  z.transform((s, ctx) => {
    const out: Array<[number, number]> = [];
    for (const part of s.split(',')) {
      const m = /^\s*(\d{3})\s*(?:-\s*(\d{3}))?\s*$/.exec(part);
      const lo = Number(m?.[1]);
      const hi = Number(m?.[2] ?? m?.[1]);
      if (!m || lo < 100 || hi > 599 || lo > hi) {
        addIssue(ctx, { message: 'expected status ranges like "200-399" or "200,204"' });
        return z.NEVER;
      }
      out.push([lo, hi]);
    }
    return out;
  }),
);

const zRegex = z.pipe(
  z.string(),
  z.transform((s, ctx) => {
    try {
      return new RegExp(s);
    } catch (e) {
      addIssue(ctx, { message: `invalid regular expression: ${(e as Error).message}` });
      return z.NEVER;
    }
  }),
);

export const zHttpUrl = z
  .string()
  .check(z.refine((s) => /^https?:\/\/[^/\s]+/.test(s), 'expected http://HOST:PORT/PATH or https://...'));

export const zMysqlUrl = urlWithoutPassword(['mysql:', 'mariadb:'], 'mysql://USER@HOST:3306/DB');
export const zPostgresUrl = urlWithoutPassword(['postgres:', 'postgresql:'], 'postgres://USER@HOST:5432/DB');
export const zRedisUrl = urlWithoutPassword(['redis:', 'rediss:'], 'redis://[USER@]HOST:6379');

export const mysqlCheck = z.strictObject({
  ...common,
  type: z.literal('mysql'),
  url: zMysqlUrl,
  query: z._default(z.string().check(z.minLength(1)), 'SELECT 1'),
  ...secret,
  ...tls,
});

export const postgresCheck = z.strictObject({
  ...common,
  type: z.literal('postgres'),
  url: zPostgresUrl,
  query: z._default(z.string().check(z.minLength(1)), 'SELECT 1'),
  ...secret,
  ...tls,
});

/** core's setting names as this check's keys, for error paths */
const RENAMED: Record<string, string> = {
  redis: 'url',
  redisCluster: 'cluster',
  redisSentinel: 'sentinels',
  redisSentinelMaster: 'sentinelMaster',
  redisUsername: 'username',
  redisTlsCertFile: 'tlsCert',
  redisTlsKeyFile: 'tlsKey',
};

export const redisCheck = z
  .strictObject({
    ...common,
    type: z.literal('redis'),
    /** a server (standalone); or give cluster or sentinels */
    url: z.optional(zRedisUrl),
    /** Cluster seed nodes (host:port or redis[s]://host:port): the first that answers must say cluster_state:ok */
    cluster: z._default(z.array(z.string()), []),
    /** Sentinels (host:port): the primary they name is checked */
    sentinels: z._default(z.array(z.string()), []),
    sentinelMaster: z._default(z.string(), ''),
    /** ACL user (the URL's user otherwise) */
    username: z.optional(z.string()),
    /** a replica also needs master_link_status:up */
    replicaLink: z._default(z.boolean(), false),
    ...secret,
    ...tls,
    /** client certificate and key (PEM files) for servers that require one */
    tlsCert: z.optional(z.string()),
    tlsKey: z.optional(z.string()),
  })
  .check(
    z.superRefine((c, ctx) => {
      // the same rules as the --redis* flags, reported under this check's key names
      checkRedisSettings(
        {
          redis: c.url ?? '',
          redisCluster: c.cluster,
          redisSentinel: c.sentinels,
          redisSentinelMaster: c.sentinelMaster,
          redisUsername: c.username ?? '',
          redisPassword: '',
          redisPasswordFile: '',
          redisTlsCaFile: c.tlsCa ?? '',
          redisTlsCertFile: c.tlsCert ?? '',
          redisTlsKeyFile: c.tlsKey ?? '',
          redisTlsSkipVerify: c.tlsInsecure,
        },
        {
          ...ctx,
          addIssue: (i: { path?: PropertyKey[]; message?: string }) =>
            ctx.addIssue({
              code: 'custom',
              message: i.message ?? '',
              path: (i.path ?? []).map((p) => RENAMED[String(p)] ?? p),
            }),
        } as typeof ctx,
      );
      if (!c.url && !c.cluster.length && !c.sentinels.length)
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'give url, cluster or sentinels' });
    }),
  );

export const memcachedCheck = z.strictObject({
  ...common,
  type: z.literal('memcached'),
  address: zAddress,
});

export const httpCheck = z.strictObject({
  ...common,
  type: z.literal('http'),
  url: zHttpUrl,
  method: z._default(z.enum(['GET', 'HEAD', 'POST']), 'GET'),
  headers: z._default(z.record(z.string(), z.string()), {}),
  expectStatus: z._default(zStatusRanges, [[200, 399]]),
  /** the body (first maxBody bytes) must match */
  bodyRegex: z.optional(zRegex),
  maxBody: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(16 * 1024 * 1024)), 64 * 1024),
  /** accept any server certificate (self-signed test endpoints only) */
  insecure: z._default(z.boolean(), false),
});

export const tcpCheck = z.strictObject({
  ...common,
  type: z.literal('tcp'),
  address: zAddress,
});

export const grpcCheck = z.strictObject({
  ...common,
  type: z.literal('grpc'),
  address: zAddress,
  /** service name asked about; "" is the server as a whole */
  service: z._default(z.string(), ''),
  tls: z._default(z.boolean(), false),
  tlsCa: z.optional(z.string()),
});

export const execCheck = z.strictObject({
  ...common,
  type: z.literal('exec'),
  /** a string runs through /bin/sh -c; a list runs without a shell */
  command: z.union([z.string().check(z.minLength(1)), z.array(z.string()).check(z.minLength(1))]),
  /** stdout+stderr kept for the check's output; the rest is counted and dropped */
  maxOutput: z._default(z.number().check(z.int(), z.minimum(64), z.maximum(1024 * 1024)), 4096),
});

export const checkSchema = z.discriminatedUnion('type', [
  mysqlCheck,
  postgresCheck,
  redisCheck,
  memcachedCheck,
  httpCheck,
  tcpCheck,
  grpcCheck,
  execCheck,
]);

export type CheckSpec = z.infer<typeof checkSchema>;
export type CheckType = CheckSpec['type'];

export interface Timing {
  interval: number;
  timeout: number;
  successThreshold: number;
  failureThreshold: number;
}

/** A check with every timing setting filled in from the global defaults. */
export type ResolvedCheck = CheckSpec & Timing & { critical: boolean };
