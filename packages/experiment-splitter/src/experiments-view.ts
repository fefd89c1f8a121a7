import { redactUrl } from '@dds/core/config/redact';
import { BUCKETS } from './bucketing.js';
import type { Plan } from './plan.js';

const ms = (s: number): number | null => (Number.isFinite(s) ? Math.round(s * 1e5) / 100 : null);
const pct = (x: number): number => Math.round(x * 1e4) / 100;

/** GET /experiments: each experiment's variants side by side over the sliding window. */
export function experimentsView(plan: Plan) {
  return {
    experiments: plan.experiments.map((e) => {
      const summaries = e.variants.map((v) => v.stats.window.summary());
      const total = summaries.reduce((n, s) => n + s.requests, 0);
      const counts = new Array<number>(e.variants.length).fill(0);
      for (const i of e.table) counts[i]!++;
      return {
        name: e.name,
        hosts: e.hosts,
        pathPrefix: e.pathPrefix,
        key: e.key.kind === 'ip' ? 'ip' : `${e.key.kind}:${e.key.name}`,
        windowSeconds: e.guard.window / 1000,
        guard: { ...e.guard, tripped: e.variants.filter((v) => e.off.has(v.index)).map((v) => v.name) },
        variants: e.variants.map((v, i) => {
          const s = summaries[i]!;
          return {
            name: v.name,
            control: v.isControl,
            backend: redactUrl(v.backend),
            weightPercent: v.weight,
            assignedPercent: pct(counts[i]! / BUCKETS),
            tripped: e.off.has(v.index),
            backendDown: v.downUntil > Date.now(),
            window: {
              requests: s.requests,
              trafficPercent: total ? pct(s.requests / total) : 0,
              errors: s.errors,
              errorPercent: pct(s.errorRate),
              p50ms: ms(s.p50),
              p95ms: ms(s.p95),
              p99ms: ms(s.p99),
            },
          };
        }),
      };
    }),
  };
}
