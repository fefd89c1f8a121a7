import type { MetricSet } from '../../exposition/metric-set.js';
import type { CollectNotes, ScrapeOptions, Source } from '../source.js';
import { fetchMemcachedSnapshot, parseMemcachedTarget } from './memcached-client.js';
import { memcachedMetrics } from './memcached-metrics.js';

export interface MemcachedSourceConfig {
  target: string;
  slabs: boolean;
}

export function memcachedSource(cfg: MemcachedSourceConfig): Source {
  return {
    kind: 'memcached',
    namespace: 'memcached',
    multiTargetPath: '/scrape',
    defaultTarget: cfg.target,
    checkTarget: (t) => {
      const r = parseMemcachedTarget(t);
      return typeof r === 'string' ? r : undefined;
    },
    describe: (t) => t,
    async collect(set: MetricSet, target: string, opts: ScrapeOptions): Promise<CollectNotes> {
      const ep = parseMemcachedTarget(target);
      if (typeof ep === 'string') throw new Error(ep);
      const snap = await fetchMemcachedSnapshot(ep, cfg.slabs, opts);
      const bad = memcachedMetrics(set, snap, opts.naming);
      return { skipped: snap.malformed + bad.length, examples: bad.slice(0, 5) };
    },
  };
}
