import type { Component } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { flags, type SplitterConfig, schema } from './config.js';
import { createSplitter } from './splitter.js';

/** dds-experiment-splitter: what `dds-experiment-splitter` runs alone and what dds-pod hosts beside other components. */
export const component: Component<SplitterConfig> = {
  name: 'experiment-splitter',
  version: packageVersion(import.meta.url),
  summary: 'sticky percentage experiments with per-variant metrics and an automatic guard',
  usage:
    'dds-experiment-splitter --control URL --experiment URL [--percent 10] [--key cookie:NAME|header:NAME|ip]\n       dds-experiment-splitter --config splitter.yaml',
  defaultAdmin: '0.0.0.0:9903',
  workers: true,
  adminActions: true, // POST /experiments/:name/reset
  flags,
  schema: schema as never,
  create: (ctx) => createSplitter(ctx),
};
