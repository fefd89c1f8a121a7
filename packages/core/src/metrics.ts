import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { bufferBudget } from './http/buffer-budget.js';
import { fastPathStates } from './internals/fast-paths.js';

export { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';

export const METRIC_PREFIX = 'dds_';

/** Latency buckets in seconds suited to a local proxy hop (100µs .. 10s). */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A registry per process with runtime metrics, every name prefixed dds_. */
export function createRegistry(component: string, version: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  // prom-client names three gauges *_total, which `promtool check metrics` rejects (only counters
  // may end in _total); dds_nodejs_active_resources{type} carries the same information.
  for (const name of ['active_handles', 'active_requests', 'active_resources']) {
    registry.removeSingleMetric(`${METRIC_PREFIX}nodejs_${name}_total`);
  }
  const info = new Gauge({
    name: `${METRIC_PREFIX}build_info`,
    help: 'Build information of the running component; always 1.',
    labelNames: ['component', 'version', 'node_version'],
    registers: [registry],
  });
  info.set({ component, version, node_version: process.version }, 1);
  new Gauge({
    name: `${METRIC_PREFIX}http_held_body_bytes`,
    help: 'Request body bytes held for HTTP clients whose request waits for an upstream (bounded by --buffer-budget).',
    registers: [registry],
    collect() {
      this.set(bufferBudget.held);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}fast_path_info`,
    help: "Fast paths on Node's private internals probed by this process: live 1 in use, 0 replaced by the public-API fallback.",
    labelNames: ['path', 'live'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of fastPathStates()) this.set({ path: s.path, live: s.live ? '1' : '0' }, 1);
    },
  });
  return registry;
}
