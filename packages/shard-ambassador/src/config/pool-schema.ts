import { zDuration } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { DISTRIBUTIONS } from '../distribution/index.js';
import { HASH_NAMES } from '../hash/index.js';
import { checkShardKey } from '../http/shard-key.js';
import { checkPoolTls, poolTlsSchema } from './pool-tls.js';
import { parseServer, type ServerSpec } from './server-spec.js';

/** Milliseconds, given as a number (twemproxy) or a duration like the flags take (`400ms`, `30s`). */
const zMs = z.pipe(zDuration, z.number().check(z.int('a whole number of milliseconds'), z.minimum(0)));

const zListen = z.string().check(
  z.refine((s) => /^\/\S+( [0-7]{3,4})?$/.test(s) || /^.+:\d{1,5}$/.test(s), {
    message: 'expected "host:port" or "/path/to/socket [permissions]"',
  }),
);

const zServer = z.string().check(
  z.superRefine((s, ctx) => {
    const r = parseServer(s);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  }),
);

/** A replica may leave out the weight: "host:port". */
const zReplica = z.string().check(z.regex(/^[^\s:]+:\d{1,5}$/, 'expected "host:port"'));

/** A replica entry as a server spec (weight 1, named after its primary). */
export function replicaSpec(entry: string, primary: string): ServerSpec {
  const r = parseServer(/^[^\s:]+:\d{1,5}$/.test(entry) ? `${entry}:1` : entry) as ServerSpec;
  return { ...r, name: `${primary}@${r.host}:${r.port}`, named: true };
}

const zShardKey = z.string().check(
  z.superRefine((s, ctx) => {
    const error = checkShardKey(s);
    if (error !== undefined) ctx.addIssue({ code: 'custom', message: error });
  }),
);

/**
 * One pool of a nutcracker.yaml, keys as twemproxy 0.5 spells them and with its defaults.
 * Our additions are optional: `http`, `shard_key`, `replicas`, `read_preference`,
 * `dns_discovery`, `redis_username`, `tls`. Times take a number of milliseconds (twemproxy) or
 * a duration as the flags do (`400ms`, `30s`, `1m`).
 */
export const poolSchema = z
  .strictObject({
    listen: zListen,
    hash: z._default(z.enum(HASH_NAMES), 'fnv1a_64'),
    hash_tag: z.optional(z.string().check(z.length(2, 'must be exactly two characters, e.g. "{}"'))),
    distribution: z._default(z.enum(DISTRIBUTIONS), 'ketama'),
    /** milliseconds to wait for a server's reply; 0 waits forever (twemproxy's default) */
    timeout: z._default(zMs, 0),
    backlog: z._default(z.number().check(z.int(), z.minimum(1)), 512),
    client_connections: z._default(z.number().check(z.int(), z.minimum(0)), 0),
    redis: z._default(z.boolean(), false),
    redis_auth: z.optional(z.string().check(z.minLength(1))),
    /** ours: the ACL user the proxy authenticates as (AUTH user password), Redis 6+ */
    redis_username: z.optional(z.string().check(z.minLength(1))),
    /** ours: TLS to the servers */
    tls: z.optional(poolTlsSchema),
    redis_db: z._default(z.number().check(z.int(), z.minimum(0)), 0),
    preconnect: z._default(z.boolean(), false),
    auto_eject_hosts: z._default(z.boolean(), false),
    server_connections: z._default(
      z.number().check(z.int(), z.minimum(1, 'cannot be 0'), z.maximum(1024)),
      1,
    ),
    server_retry_timeout: z._default(zMs, 30_000),
    server_failure_limit: z._default(z.number().check(z.int(), z.minimum(1)), 2),
    servers: z._default(z.array(zServer), []),
    /** find the servers in DNS (SRV name, or host name + port), re-resolved every interval */
    dns_discovery: z.optional(
      z.strictObject({
        name: z.string().check(z.minLength(1)),
        port: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(65535))),
        weight: z._default(z.number().check(z.int(), z.minimum(1)), 1),
        interval: z._default(z.pipe(zMs, z.number().check(z.minimum(100, 'must be at least 100ms'))), 10_000),
        server: z.optional(z.string().check(z.regex(/^[^\s]+:\d{1,5}$/, 'expected "host:port"'))),
      }),
    ),
    // additions (twemproxy has none of these)
    http: z._default(z.boolean(), false),
    shard_key: z._default(zShardKey, 'uri'),
    /** server name -> replicas ("host:port"), for reads (the book's replicated sharded cache) */
    replicas: z._default(
      z.record(z.string(), z.array(z.union([zServer, zReplica])).check(z.minLength(1))),
      {},
    ),
    /** `primary`: reads go to a replica only while the primary is down; `replica`: reads go to replicas */
    read_preference: z._default(z.enum(['primary', 'replica']), 'primary'),
  })
  .check(
    z.superRefine((p, ctx) => {
      if (p.http && p.redis)
        ctx.addIssue({ code: 'custom', path: ['http'], message: 'a pool is either redis or http' });
      if (!p.redis && (p.redis_auth !== undefined || p.redis_db !== 0 || p.redis_username !== undefined)) {
        const key =
          p.redis_auth !== undefined
            ? 'redis_auth'
            : p.redis_username !== undefined
              ? 'redis_username'
              : 'redis_db';
        ctx.addIssue({ code: 'custom', path: [key], message: 'only valid with redis: true' });
      }
      if (p.redis_username !== undefined && p.redis_auth === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['redis_username'],
          message: 'needs redis_auth (the password of that user)',
        });
      }
      if (p.tls !== undefined) {
        if (p.http) {
          ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls is for redis and memcache pools' });
        } else {
          const problem = checkPoolTls(p.tls);
          if (problem) ctx.addIssue({ code: 'custom', path: ['tls', problem[0]], message: problem[1] });
        }
      }
      if (p.servers.length === 0 && !p.dns_discovery) {
        ctx.addIssue({
          code: 'custom',
          path: ['servers'],
          message: 'a pool needs at least one server (or dns_discovery)',
        });
      }
      if (p.servers.length > 0 && p.dns_discovery) {
        ctx.addIssue({
          code: 'custom',
          path: ['dns_discovery'],
          message: 'give either servers or dns_discovery',
        });
      }
      if (Object.keys(p.replicas).length > 0 && p.http) {
        ctx.addIssue({
          code: 'custom',
          path: ['replicas'],
          message: 'replicas are for redis and memcache pools',
        });
      }
      const names = new Map<string, number>();
      p.servers.forEach((s, i) => {
        const r = parseServer(s);
        if (typeof r === 'string') return;
        const prev = names.get(r.name);
        if (prev !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['servers', i],
            message: `duplicate server name "${r.name}" (also servers[${prev}])`,
          });
        }
        names.set(r.name, i);
      });
      for (const primary of Object.keys(p.replicas)) {
        if (!names.has(primary)) {
          ctx.addIssue({
            code: 'custom',
            path: ['replicas', primary],
            message: `no server named "${primary}" in servers (names: ${[...names.keys()].join(', ')})`,
          });
        }
      }
    }),
  );

export type PoolConfig = z.infer<typeof poolSchema>;
