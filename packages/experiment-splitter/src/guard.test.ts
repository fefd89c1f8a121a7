import { describe, expect, it } from 'vitest';
import type { GuardConfig } from './config.js';
import { judge } from './guard.js';
import type { WindowSummary } from './sliding-window.js';

const g: GuardConfig = { enabled: true, errorMargin: 0.05, p99Margin: 0.5, minSamples: 100, window: 60_000 };
const sum = (requests: number, errorRate: number, p99: number): WindowSummary => ({
  requests,
  errors: Math.round(requests * errorRate),
  errorRate,
  p50: p99 / 2,
  p95: p99,
  p99,
});

describe('guard judge', () => {
  it('trips on an error rate above control plus the margin', () => {
    expect(judge(sum(200, 0.2, 0.01), sum(2000, 0.01, 0.01), g)).toEqual({
      reason: 'error_rate',
      variant: 0.2,
      control: 0.01,
    });
  });

  it('stays quiet within the margin or below the minimum sample', () => {
    expect(judge(sum(200, 0.05, 0.01), sum(2000, 0.01, 0.01), g)).toBeUndefined();
    expect(judge(sum(99, 1, 0.01), sum(2000, 0, 0.01), g)).toBeUndefined();
  });

  it('trips on p99 only when enabled and both sides have enough samples', () => {
    expect(judge(sum(200, 0, 0.2), sum(2000, 0, 0.1), g)?.reason).toBe('p99');
    expect(judge(sum(200, 0, 0.14), sum(2000, 0, 0.1), g)).toBeUndefined();
    expect(judge(sum(200, 0, 0.2), sum(50, 0, 0.1), g)).toBeUndefined();
    expect(judge(sum(200, 0, 0.2), sum(2000, 0, 0.1), { ...g, p99Margin: 0 })).toBeUndefined();
  });
});
