import { Counter, Histogram, LATENCY_BUCKETS, METRIC_PREFIX, type Registry } from '@dds/core/metrics';

/** The adapter's own metrics on the admin /metrics (not in the scrape answers). */
export interface AdapterMetrics {
  scrapes: Counter<'source' | 'result'>;
  duration: Histogram<'source'>;
  skipped: Counter<'source'>;
}

export function adapterMetrics(registry: Registry): AdapterMetrics {
  const p = `${METRIC_PREFIX}metrics_adapter_`;
  return {
    scrapes: new Counter({
      name: `${p}scrapes_total`,
      help: 'Scrapes of targets by source and result (success, unreachable, timeout, auth, tls, protocol, too_large, error).',
      labelNames: ['source', 'result'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: `${p}scrape_duration_seconds`,
      help: 'Time to fetch and convert one target scrape.',
      labelNames: ['source'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    skipped: new Counter({
      name: `${p}skipped_fields_total`,
      help: 'Fields of target replies skipped as malformed, non-numeric or duplicate.',
      labelNames: ['source'],
      registers: [registry],
    }),
  };
}
