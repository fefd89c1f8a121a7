import type { Component } from '@dds/core/runner';

/**
 * The components a pod can host, each loaded only when the pod's config names it: a pod with a
 * TLS sidecar and a log adapter never loads the shard-ambassador's code.
 */
// biome-ignore lint/suspicious/noExplicitAny: each component has its own config type
export const COMPONENTS: Record<string, () => Promise<Component<any>>> = {
  'tls-sidecar': async () => (await import('@dds/tls-sidecar/component')).component,
  'rate-limiter': async () => (await import('@dds/rate-limiter/component')).component,
  'experiment-splitter': async () => (await import('@dds/experiment-splitter/component')).component,
  'metrics-adapter': async () => (await import('@dds/metrics-adapter/component')).component,
  'log-adapter': async () => (await import('@dds/log-adapter/component')).component,
  'health-adapter': async () => (await import('@dds/health-adapter/component')).component,
  'shard-ambassador': async () => (await import('@dds/shard-ambassador/component')).component,
};
