import type { Component } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { createHealthAdapter } from './adapter.js';
import { flags, type HealthConfig, schema } from './config.js';

const version = packageVersion(import.meta.url);

/** dds-health-adapter: what `dds-health-adapter` runs alone and what dds-pod hosts beside other components. */
export const component: Component<HealthConfig> = {
  name: 'health-adapter',
  version,
  summary:
    'rich health checks (MySQL, PostgreSQL, Redis, memcached, HTTP, TCP, gRPC, exec) served as Kubernetes probes',
  usage:
    "dds-health-adapter --mysql mysql://USER@HOST:3306/DB --query 'SELECT 1' [--redis URL] [--http URL] [--config checks.yaml]",
  footer:
    'Probes: /livez and /healthz (the adapter only), /readyz (critical checks), /readyz/<check>; add ?verbose for a line per check.\nPasswords: --<db>-password-file FILE or the env DDS_MYSQL_PASSWORD, DDS_POSTGRES_PASSWORD, DDS_REDIS_PASSWORD.',
  defaultAdmin: '0.0.0.0:9907',
  flags,
  schema,
  // database passwords of the quick flags, and any a check names
  env: (c) => [
    'DDS_MYSQL_PASSWORD',
    'DDS_POSTGRES_PASSWORD',
    'DDS_REDIS_PASSWORD',
    ...c.checks.flatMap((check) => ('passwordEnv' in check && check.passwordEnv ? [check.passwordEnv] : [])),
  ],
  create: (ctx) => createHealthAdapter(ctx, version),
};
