import type { Component } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { createDemoApp } from './app.js';
import { type DemoConfig, flags, schema } from './config.js';

/** dds-demo-app: what `dds-demo-app` runs alone and what dds-pod hosts beside other components. */
export const component: Component<DemoConfig> = {
  name: 'demo-app',
  version: packageVersion(import.meta.url),
  summary: 'a tiny legacy HTTP app (plain HTTP, no TLS, no metrics) for demos and tests',
  usage: 'dds-demo-app [--listen HOST:PORT] [--name NAME] [--message TEXT]',
  defaultAdmin: '127.0.0.1:9900',
  workers: true,
  flags,
  schema,
  create: ({ config }) => createDemoApp(config),
};
