import { type CommonConfig, configSchema } from '@dds/core/config/common-flags';
import { zAddress, zDuration } from '@dds/core/config/schemas';
import { flagsOf, setting } from '@dds/core/config/settings';
import * as z from '@dds/core/config/zod';
import { checkRedisSettings, redisSettings } from '@dds/core/redis/redis-settings';
import { checkSchema, zHttpUrl, zMysqlUrl, zPostgresUrl, zRedisUrl } from './checks/check-spec.js';
import { quickChecks } from './quick-checks.js';

const quick = 'Quick checks (one flag = one critical check; use checks: in --config for more)';
const timing = 'Check timing (defaults for every check; a check in the config file may override them)';

const threshold = z.number().check(z.int(), z.minimum(1), z.maximum(1000));

export const settings = {
  listen: setting.address({
    help: 'probe server (/livez /healthz /readyz /readyz/<check>)',
    default: '0.0.0.0:8086',
  }),
  once: setting.boolean({
    help: 'run every check once, print a line per check and exit 0 (critical checks pass) or 1; no servers',
    default: false,
  }),
  mysql: setting.string({
    help: 'MySQL/MariaDB check: connect and run --query',
    metavar: 'mysql://USER@HOST:PORT/DB',
    group: quick,
    schema: z.optional(zMysqlUrl),
  }),
  query: setting.string({
    help: 'query of the --mysql and --postgres checks',
    default: 'SELECT 1',
    group: quick,
    schema: z.string().check(z.minLength(1)),
  }),
  mysqlPasswordFile: setting.string({
    help: 'file holding the MySQL password, read at every check (else the env DDS_MYSQL_PASSWORD)',
    metavar: 'FILE',
    group: quick,
    schema: z.optional(z.string()),
  }),
  postgres: setting.string({
    help: 'PostgreSQL check: connect and run --query',
    metavar: 'postgres://USER@HOST:PORT/DB',
    group: quick,
    schema: z.optional(zPostgresUrl),
  }),
  postgresPasswordFile: setting.string({
    help: 'file holding the PostgreSQL password, read at every check (else the env DDS_POSTGRES_PASSWORD)',
    metavar: 'FILE',
    group: quick,
    schema: z.optional(z.string()),
  }),
  ...redisSettings({
    group: quick,
    urlHelp:
      'Redis check: PING answered, dataset not loading (redis://[USER@]HOST:PORT; no password in the URL)',
    url: z.union([z.literal(''), zRedisUrl]),
  }),
  redisReplicaLink: setting.boolean({
    help: 'a Redis replica also needs its link to the master up',
    default: false,
    group: quick,
  }),
  memcached: setting.string({
    help: 'memcached check: `version` answered',
    metavar: 'HOST:PORT',
    group: quick,
    schema: z.optional(zAddress),
  }),
  http: setting.list({
    help: 'HTTP check(s): GET answers 200-399',
    metavar: 'URL,...',
    default: [],
    group: quick,
    schema: z.array(zHttpUrl),
  }),
  tcp: setting.list({
    help: 'TCP connect check(s)',
    metavar: 'HOST:PORT,...',
    default: [],
    group: quick,
    schema: z.array(zAddress),
  }),
  grpc: setting.list({
    help: 'gRPC health check(s) (grpc.health.v1.Health/Check, service "")',
    metavar: 'HOST:PORT,...',
    default: [],
    group: quick,
    schema: z.array(zAddress),
  }),
  exec: setting.string({
    help: 'command run by /bin/sh -c; healthy when it exits 0',
    metavar: 'CMD',
    group: quick,
    schema: z.optional(z.string().check(z.minLength(1))),
  }),
  interval: setting.duration({
    help: 'time between two runs of a check (start to start; runs never overlap)',
    default: 5000,
    group: timing,
    schema: z.pipe(zDuration, z.number().check(z.minimum(100, 'at least 100ms'))),
  }),
  timeout: setting.duration({
    help: 'a run taking longer fails (reason timeout)',
    default: 2000,
    group: timing,
    schema: z.pipe(zDuration, z.number().check(z.minimum(1, 'at least 1ms'))),
  }),
  successThreshold: setting.number({
    help: 'consecutive successes that make a failing check pass',
    default: 1,
    group: timing,
    schema: threshold,
  }),
  failureThreshold: setting.number({
    help: 'consecutive failures that make a passing check fail',
    default: 3,
    group: timing,
    schema: threshold,
  }),
};

export const flags = flagsOf(settings);

export const schema = z.pipe(
  configSchema(settings, {
    checks: z._default(z.array(checkSchema), []),
  }).check(
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
