import { type CommonConfig, commonSchema } from '@dds/core/config/common-flags';
import type { FlagSpec } from '@dds/core/config/flags';
import { zAddress, zDuration } from '@dds/core/config/schemas';
import * as z from '@dds/core/config/zod';
import { checkRedisSettings, redisFlags, redisSchema } from '@dds/core/redis/redis-settings';
import { checkSchema, zHttpUrl, zMysqlUrl, zPostgresUrl, zRedisUrl } from './checks/check-spec.js';
import { quickChecks } from './quick-checks.js';

const quick = 'Quick checks (one flag = one critical check; use checks: in --config for more)';
const timing = 'Check timing (defaults for every check; a check in the config file may override them)';

export const flags: FlagSpec[] = [
  {
    name: 'listen',
    type: 'string',
    help: 'probe server (/livez /healthz /readyz /readyz/<check>)',
    metavar: 'HOST:PORT',
    default: '0.0.0.0:8086',
  },
  {
    name: 'once',
    type: 'boolean',
    help: 'run every check once, print a line per check and exit 0 (critical checks pass) or 1; no servers',
    default: false,
  },
  {
    name: 'mysql',
    type: 'string',
    help: 'MySQL/MariaDB check: connect and run --query',
    metavar: 'mysql://USER@HOST:PORT/DB',
    group: quick,
  },
  {
    name: 'query',
    type: 'string',
    help: 'query of the --mysql and --postgres checks',
    default: 'SELECT 1',
    group: quick,
  },
  {
    name: 'mysql-password-file',
    type: 'string',
    help: 'file holding the MySQL password (read at every check)',
    metavar: 'FILE',
    group: quick,
  },
  {
    name: 'postgres',
    type: 'string',
    help: 'PostgreSQL check: connect and run --query',
    metavar: 'postgres://USER@HOST:PORT/DB',
    group: quick,
  },
  {
    name: 'postgres-password-file',
    type: 'string',
    help: 'file holding the PostgreSQL password',
    metavar: 'FILE',
    group: quick,
  },
  ...redisFlags({
    group: quick,
    urlHelp:
      'Redis check: PING answered, dataset not loading (redis://[USER@]HOST:PORT; no password in the URL)',
  }),
  {
    name: 'redis-replica-link',
    type: 'boolean',
    help: 'a Redis replica also needs its link to the master up',
    default: false,
    group: quick,
  },
  {
    name: 'memcached',
    type: 'string',
    help: 'memcached check: `version` answered',
    metavar: 'HOST:PORT',
    group: quick,
  },
  {
    name: 'http',
    type: 'list',
    help: 'HTTP check(s): GET answers 200-399',
    metavar: 'URL,...',
    default: [],
    group: quick,
  },
  {
    name: 'tcp',
    type: 'list',
    help: 'TCP connect check(s)',
    metavar: 'HOST:PORT,...',
    default: [],
    group: quick,
  },
  {
    name: 'grpc',
    type: 'list',
    help: 'gRPC health check(s) (grpc.health.v1.Health/Check, service "")',
    metavar: 'HOST:PORT,...',
    default: [],
    group: quick,
  },
  {
    name: 'exec',
    type: 'string',
    help: 'command run by /bin/sh -c; healthy when it exits 0',
    metavar: 'CMD',
    group: quick,
  },
  {
    name: 'interval',
    type: 'duration',
    help: 'time between two runs of a check',
    default: 5000,
    group: timing,
  },
  { name: 'timeout', type: 'duration', help: 'a run taking longer fails', default: 2000, group: timing },
  {
    name: 'success-threshold',
    type: 'number',
    help: 'consecutive successes that make a failing check pass',
    default: 1,
    group: timing,
  },
  {
    name: 'failure-threshold',
    type: 'number',
    help: 'consecutive failures that make a passing check fail',
    default: 3,
    group: timing,
  },
];

const threshold = z.number().check(z.int(), z.minimum(1), z.maximum(1000));

export const schema = z.pipe(
  z
    .strictObject({
      ...commonSchema,
      listen: zAddress,
      once: z.boolean(),
      mysql: z.optional(zMysqlUrl),
      query: z.string().check(z.minLength(1)),
      mysqlPasswordFile: z.optional(z.string()),
      postgres: z.optional(zPostgresUrl),
      postgresPasswordFile: z.optional(z.string()),
      ...redisSchema,
      redis: z.union([z.literal(''), zRedisUrl]),
      redisReplicaLink: z.boolean(),
      memcached: z.optional(zAddress),
      http: z.array(zHttpUrl),
      tcp: z.array(zAddress),
      grpc: z.array(zAddress),
      exec: z.optional(z.string().check(z.minLength(1))),
      interval: z.pipe(zDuration, z.number().check(z.minimum(100, 'at least 100ms'))),
      timeout: z.pipe(zDuration, z.number().check(z.minimum(1, 'at least 1ms'))),
      successThreshold: threshold,
      failureThreshold: threshold,
      checks: z._default(z.array(checkSchema), []),
    })
    .check(
      z.superRefine((c, ctx) => {
        checkRedisSettings(c, ctx);
        const seen = new Set(quickChecks(c).map((q) => q.name));
        if (seen.size === 0 && c.checks.length === 0)
          ctx.addIssue({
            code: 'custom',
            path: ['checks'],
            message:
              'no checks configured: give a quick flag (--mysql, --redis, --http, ...) or checks: in --config',
          });
        c.checks.forEach((check, i) => {
          if (seen.has(check.name))
            ctx.addIssue({
              code: 'custom',
              path: ['checks', i, 'name'],
              message: `duplicate check name "${check.name}" (quick-flag checks are named mysql, redis, http, http-2, ...)`,
            });
          seen.add(check.name);
        });
      }),
    ),
  z.transform((c) => (c.once ? { ...c, admin: 'off' } : c)),
);

export type HealthConfig = z.infer<typeof schema> & CommonConfig;
