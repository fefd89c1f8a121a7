import type { GuardConfig } from './config.js';
import type { WindowSummary } from './sliding-window.js';

export interface GuardVerdict {
  reason: 'error_rate' | 'p99';
  /** the variant's value and control's: error rates (0..1) or p99 seconds */
  variant: number;
  control: number;
}

/**
 * Whether a variant is worse than control by more than the configured margin, judged only once
 * the variant has minSamples requests in the window (the latency check also needs them for
 * control, since a p99 of a handful of requests says nothing).
 */
export function judge(
  variant: WindowSummary,
  control: WindowSummary,
  g: GuardConfig,
): GuardVerdict | undefined {
  if (variant.requests < g.minSamples) return undefined;
  if (variant.errorRate > control.errorRate + g.errorMargin) {
    return { reason: 'error_rate', variant: variant.errorRate, control: control.errorRate };
  }
  if (
    g.p99Margin > 0 &&
    control.requests >= g.minSamples &&
    Number.isFinite(variant.p99) &&
    Number.isFinite(control.p99) &&
    variant.p99 > control.p99 * (1 + g.p99Margin)
  ) {
    return { reason: 'p99', variant: variant.p99, control: control.p99 };
  }
  return undefined;
}
