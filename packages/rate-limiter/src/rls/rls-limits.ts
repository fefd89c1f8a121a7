import type { Algorithm } from '../algorithms/decision.js';
import { gcra } from '../algorithms/gcra.js';
import { slidingWindow } from '../algorithms/sliding-window.js';
import type { LimiterLimit } from '../limiter/verdict.js';
import { type RlsRule, UNIT_SECONDS } from './rls-config.js';

export type RlsAlgorithm = 'fixed-window' | 'gcra' | 'sliding-window';

/**
 * A rule as a limit for dds's own algorithms. `N per unit` is GCRA with a bucket of N (burst
 * N - 1: the whole quota may be used at once, then it refills smoothly, one per unit / N), or a
 * sliding window of N per unit. Limits a caller sets in the request share one store per unit,
 * so callers cannot make the limiter hold one store per value they invent.
 */
export function limiterLimit(
  rule: RlsRule,
  algorithm: 'gcra' | 'sliding-window',
  override: boolean,
): LimiterLimit {
  const period = unitMs(rule);
  const n = Math.max(rule.requestsPerUnit, 0);
  const id = override ? `${rule.fullKey.split('.')[0]}.override.${rule.unit}` : rule.fullKey;
  if (algorithm === 'gcra') {
    // N = 0 admits nothing: an interval longer than any clock keeps every request out
    const interval = n > 0 ? period / n : Number.MAX_SAFE_INTEGER;
    const burst = Math.max(0, n - 1);
    return {
      id,
      signature: override ? `override:gcra:${rule.unit}` : `gcra:${n}/${period}`,
      algorithm: gcra(interval, burst) as Algorithm<unknown>,
      redisArgs: ['1', String(interval), String((burst + 1) * interval)],
    };
  }
  return {
    id,
    signature: override ? `override:sw:${rule.unit}` : `sw:${n}/${period}`,
    algorithm: slidingWindow(n, period) as Algorithm<unknown>,
    redisArgs: ['2', String(n), String(period)],
  };
}

export const unitMs = (rule: Pick<RlsRule, 'unit'>): number => UNIT_SECONDS[rule.unit] * 1000;
