import type { Component } from '@dds/core/runner';
import { packageVersion } from '@dds/core/version';
import { createRateLimiter } from './app.js';
import { flags, type RateLimiterConfig, schema } from './config.js';
import { redactPolicy } from './policy/redact-policy.js';

/** dds-rate-limiter: what `dds-rate-limiter` runs alone and what dds-pod hosts beside other components. */
export const component: Component<RateLimiterConfig> = {
  name: 'rate-limiter',
  version: packageVersion(import.meta.url),
  summary: 'local and Redis-backed distributed rate limiting in front of an HTTP app',
  usage:
    'dds-rate-limiter --upstream http://127.0.0.1:3000 --rate 100/s [--burst 50] [--key ip] [--redis redis://host:6379] | --config policies.yaml',
  footer:
    'Policies (match, keys, several limits, overrides, allow-lists): see the YAML `policies` key in the README.',
  defaultAdmin: '0.0.0.0:9904',
  workers: true, // with --redis only (config check): local limits are per process
  flags,
  schema,
  secretPaths: ['redis'],
  // API keys and ids in allow-lists and overrides; addresses and part names stay visible
  redactConfig: (c) => ({ ...c, policies: c.policies.map(redactPolicy) }),
  create: (ctx) => createRateLimiter(ctx),
};
