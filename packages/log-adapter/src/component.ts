import type { Component } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { createLogAdapter } from './adapter.js';
import { flags, type LogAdapterConfig, schema } from './config.js';

/** dds-log-adapter: what `dds-log-adapter` runs alone and what dds-pod hosts beside other components. */
export const component: Component<LogAdapterConfig> = {
  name: 'log-adapter',
  version: packageVersion(import.meta.url),
  summary:
    'normalizes application logs (files or stdin) into OpenTelemetry log records and ships them (stdout, file, HTTP, OTLP, Kafka)',
  usage:
    "dds-log-adapter --input '/logs/*.log' [--format auto] [--output stdout|file:PATH|http(s)://URL|otlp-http://HOST:PORT|kafka://BROKERS/TOPIC]...",
  defaultAdmin: '0.0.0.0:9906',
  logStream: 'stderr',
  flags,
  schema,
  create: (ctx) => createLogAdapter(ctx),
};
