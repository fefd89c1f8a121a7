#!/usr/bin/env node
import { runComponent } from '@dds/core/runner';
import { createAmbassador, VERSION } from './ambassador.js';
import { flags } from './config/flags.js';
import { nutcrackerArgv } from './config/nutcracker-argv.js';
import { fromNutcrackerYaml } from './config/nutcracker-config.js';
import { type AmbassadorConfig, schema } from './config/schema.js';

await runComponent<AmbassadorConfig>(
  {
    name: 'shard-ambassador',
    version: VERSION,
    summary: 'twemproxy-compatible consistent-hash sharding ambassador for Redis, memcached and HTTP',
    usage:
      'dds-shard-ambassador -c nutcracker.yaml [-s STATS_PORT] [-v N]  |  --redis-servers HOST:PORT:1,...',
    defaultAdmin: '0.0.0.0:9902',
    flags,
    schema: schema as never,
    fileFlag: 'conf-file',
    fromFile: fromNutcrackerYaml,
    secretPaths: [],
    create: (ctx) => createAmbassador(ctx),
  },
  nutcrackerArgv(process.argv.slice(2)),
);
