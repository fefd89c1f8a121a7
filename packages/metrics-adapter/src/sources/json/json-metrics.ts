import type { MetricSet } from '../../exposition/metric-set.js';
import { parseNumber } from '../numeric.js';
import type { JsonMetric, JsonModule } from './json-config.js';
import type { Json, Match } from './json-path.js';
import { labelValue } from './label-template.js';

function toNumber(v: Json, converter: Map<string, number> | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return converter?.get(v.toLowerCase()) ?? parseNumber(v);
  return undefined;
}

function labelsFor(metric: JsonMetric, m: Match): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [name, t] of metric.labels) labels[name] = labelValue(t, m);
  return labels;
}

/** Applies a module's metrics to a parsed JSON document; returns how many values were not numeric. */
export function jsonMetrics(set: MetricSet, doc: Json, mod: JsonModule): number {
  let skipped = 0;
  for (const metric of mod.metrics) {
    for (const m of metric.path.evaluate(doc)) {
      const labels = labelsFor(metric, m);
      if (metric.type === 'value') {
        const v = toNumber(m.value, metric.converter);
        if (v === undefined) skipped++;
        else set.add(metric.name, metric.valuetype, metric.help, v, labels);
        continue;
      }
      for (const [suffix, valuePath] of metric.values) {
        const raw = typeof valuePath === 'number' ? valuePath : valuePath.evaluate(m.value)[0]?.value;
        const v = raw === undefined ? undefined : toNumber(raw, metric.converter);
        if (v === undefined) skipped++;
        else set.add(`${metric.name}_${suffix}`, metric.valuetype, metric.help, v, labels);
      }
    }
  }
  return skipped;
}
