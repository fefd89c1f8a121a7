import type { Component } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { createAdapter } from './adapter.js';
import { type AdapterConfig, flags, schema } from './config.js';

/** dds-metrics-adapter: what `dds-metrics-adapter` runs alone and what dds-pod hosts beside other components. */
export const component: Component<AdapterConfig> = {
  name: 'metrics-adapter',
  version: packageVersion(import.meta.url),
  summary:
    'Prometheus metrics for Redis, MySQL/MariaDB, memcached and JSON endpoints (exporter-compatible names)',
  usage:
    'dds-metrics-adapter --redis redis://127.0.0.1:6379 | --mysql mysql://user@127.0.0.1:3306 | --memcached 127.0.0.1:11211 | --json URL --json-config FILE',
  defaultAdmin: '0.0.0.0:9905',
  flags,
  schema,
  create: (ctx) => createAdapter(ctx),
};
