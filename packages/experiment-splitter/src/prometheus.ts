import { LATENCY_BUCKETS, METRIC_PREFIX, type Registry } from '@dds/core/metrics';
import { FAILURE_KINDS, STATUS_CLASSES, type VariantStats } from './variant-stats.js';

type Value = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * Registers the per-variant metrics as prom-client collectables read from VariantStats at
 * scrape time (prom-client's labelled children hash their labels on every observation).
 */
export function registerVariantMetrics(registry: Registry, all: () => Iterable<VariantStats>): void {
  const P = `${METRIC_PREFIX}experiment_`;
  const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => Value[]) => {
    const m = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
      reset() {},
    };
    registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
  };
  const each = <T>(fn: (s: VariantStats, l: { experiment: string; variant: string }) => T[]): T[] => {
    const out: T[] = [];
    for (const s of all()) out.push(...fn(s, { experiment: s.experiment, variant: s.variant }));
    return out;
  };
  metric(`${P}requests_total`, 'Requests routed to a variant (overrides included).', 'counter', () =>
    each((s, l) => [{ labels: l, value: s.requests }]),
  );
  metric(
    `${P}responses_total`,
    'Responses per variant by status class (aborted = client left first).',
    'counter',
    () =>
      each((s, l) => STATUS_CLASSES.map((c, i) => ({ labels: { ...l, class: c }, value: s.responses[i]! }))),
  );
  metric(
    `${P}upstream_errors_total`,
    'Variant backend failures (connect errors, resets, timeouts).',
    'counter',
    () => each((s, l) => FAILURE_KINDS.map((k, i) => ({ labels: { ...l, kind: k }, value: s.failures[i]! }))),
  );
  metric(
    `${P}fallbacks_total`,
    'Requests of a variant served by control because its backend failed.',
    'counter',
    () => each((s, l) => [{ labels: l, value: s.fallbacks }]),
  );
  metric(`${P}guard_trips_total`, 'Times the guard shifted a variant back to control.', 'counter', () =>
    each((s, l) => [{ labels: l, value: s.guardTrips }]),
  );
  const hname = `${P}request_duration_seconds`;
  metric(hname, 'Time from request to the end of the response, per variant.', 'histogram', () =>
    each((s, l) => {
      const out: Value[] = [];
      let cum = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        cum += s.latency[i]!;
        const le = i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! : '+Inf';
        out.push({ labels: { ...l, le }, value: cum, metricName: `${hname}_bucket` });
      }
      out.push({ labels: l, value: s.latencySum, metricName: `${hname}_sum` });
      out.push({ labels: l, value: cum, metricName: `${hname}_count` });
      return out;
    }),
  );
}
