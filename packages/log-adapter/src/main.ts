#!/usr/bin/env node
import { runComponent } from '@dds/core/runner';
import { createLogAdapter } from './adapter.js';
import { flags, type LogAdapterConfig, schema } from './config.js';

await runComponent<LogAdapterConfig>({
  name: 'log-adapter',
  version: '0.1.0',
  summary: 'normalizes application logs (files or stdin) into OpenTelemetry-shaped JSON lines',
  usage: "dds-log-adapter --input '/logs/*.log' [--format auto] [--output stdout|file:PATH|http://URL]",
  defaultAdmin: '0.0.0.0:9906',
  logStream: 'stderr',
  flags,
  schema,
  create: (ctx) => createLogAdapter(ctx),
});
