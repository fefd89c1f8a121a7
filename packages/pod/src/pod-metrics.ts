import type { MetricsSource } from '@dds/core/admin/admin-server';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * The pod's one /metrics: the process's own series (runtime, reloads, build info) and every
 * component's, each component's carrying `component="<name>"` (its registry's default label), so
 * two components that both count, say, dds_http_requests_total stay two series of one family.
 */
export class PodMetrics implements MetricsSource {
  readonly contentType: string;

  constructor(
    private readonly own: Registry,
    private readonly components: () => readonly Registry[],
  ) {
    this.contentType = own.contentType;
  }

  async metrics(): Promise<string> {
    const all = await Promise.all([this.own, ...this.components()].map((r) => r.getMetricsAsJSON()));
    // grouped by name and label set: the component label keeps components' series apart
    return AggregatorRegistry.aggregate(all).metrics();
  }
}
