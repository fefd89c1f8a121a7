import { type RlsDescriptor, UNITS, type Unit } from './rls-codec.js';
import type { RlsConfig, RlsNode, RlsRule } from './rls-config.js';

export interface Match {
  rule: RlsRule;
  /** the descriptor label in metrics (detailed_metric / value_to_metric applied) */
  metricKey: string;
}

/**
 * The rule a descriptor matches, as envoyproxy/ratelimit finds it: entry by entry down the tree,
 * first `key_value`, then the first wildcard `key_prefix*` that matches, then the bare `key` (any
 * value); the rule applies only if the descriptor ends exactly at a level that has one. A
 * descriptor carrying its own limit (RateLimitOverride) uses that limit instead.
 */
export function findRule(config: RlsConfig, domain: string, d: RlsDescriptor): Match | undefined {
  const root = config.domains.get(domain);
  if (root === undefined) return undefined;
  if (d.limit) {
    const unit = UNITS[d.limit.unit];
    if (unit === undefined || unit === 'unknown') return undefined;
    const key = `${domain}.${d.entries.map((e) => (e.value ? `${e.key}_${e.value}` : e.key)).join('.')}`;
    return {
      rule: {
        fullKey: key,
        requestsPerUnit: d.limit.requestsPerUnit,
        unit: unit as Unit,
        unitCode: d.limit.unit,
        unlimited: false,
        shadowMode: false,
        name: '',
        replaces: [],
        detailedMetric: false,
      },
      metricKey: key,
    };
  }
  let level: RlsNode = root;
  let rule: RlsRule | undefined;
  let detailed = domain;
  let enhanced = domain;
  const n = d.entries.length;
  for (let i = 0; i < n; i++) {
    const e = d.entries[i]!;
    let finalKey = `${e.key}_${e.value}`;
    detailed += `.${finalKey}`;
    let next = level.children.get(finalKey);
    let wildcard: string | undefined;
    if (next === undefined) {
      for (const w of level.wildcards) {
        if (finalKey.startsWith(w.slice(0, -1))) {
          next = level.children.get(w);
          wildcard = w;
          break;
        }
      }
    }
    const byValue = next !== undefined;
    if (next === undefined) {
      finalKey = e.key;
      next = level.children.get(finalKey);
    }
    if (next === undefined) enhanced += `.${e.key}`;
    else {
      const value = wildcard
        ? next.valueToMetric
          ? e.value
          : wildcard.slice(e.key.length + 1)
        : byValue || next.valueToMetric
          ? e.value
          : '';
      enhanced += value ? `.${e.key}_${value}` : `.${e.key}`;
    }
    if (next?.rule && i === n - 1) rule = next.rule;
    if (next === undefined || next.children.size === 0) break;
    level = next;
  }
  if (rule === undefined) return undefined;
  return { rule, metricKey: rule.detailedMetric ? detailed : enhanced };
}
