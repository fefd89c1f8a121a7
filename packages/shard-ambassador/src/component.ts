import type { Component } from '@dds/core/runner';
import { createAmbassador, VERSION } from './ambassador.js';
import { flags } from './config/flags.js';
import { fromNutcrackerYaml } from './config/nutcracker-config.js';
import { type AmbassadorConfig, schema } from './config/schema.js';

/** dds-shard-ambassador: what `dds-shard-ambassador` runs alone and what dds-pod hosts beside other components. */
export const component: Component<AmbassadorConfig> = {
  name: 'shard-ambassador',
  version: VERSION,
  summary: 'twemproxy-compatible consistent-hash sharding ambassador for Redis, memcached and HTTP',
  usage: 'dds-shard-ambassador -c nutcracker.yaml [-s STATS_PORT] [-v N]  |  --redis-servers HOST:PORT:1,...',
  defaultAdmin: '0.0.0.0:9902',
  flags,
  schema: schema as never,
  fileFlag: 'conf-file',
  fromFile: fromNutcrackerYaml,
  secretPaths: [],
  create: (ctx) => createAmbassador(ctx),
};
