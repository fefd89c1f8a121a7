import { describe, expect, it } from 'vitest';
import { SlidingWindow } from './sliding-window.js';

describe('SlidingWindow', () => {
  it('reports counts, error rate and percentiles within one bucket (20%) of the truth', () => {
    const w = new SlidingWindow(10);
    for (let i = 1; i <= 1000; i++) w.record(i / 1000, i > 990); // 1ms..1s, 1% errors
    const s = w.summary();
    expect(s.requests).toBe(1000);
    expect(s.errors).toBe(10);
    expect(s.errorRate).toBeCloseTo(0.01);
    for (const [got, truth] of [
      [s.p50, 0.5],
      [s.p95, 0.95],
      [s.p99, 0.99],
    ] as const) {
      expect(got).toBeGreaterThanOrEqual(truth);
      expect(got).toBeLessThanOrEqual(truth * 1.2);
    }
  });

  it('forgets a slot once the window has slid past it', () => {
    const w = new SlidingWindow(3);
    w.record(0.001, true);
    w.advance();
    w.record(0.001, false);
    w.recordFailure();
    expect(w.summary()).toMatchObject({ requests: 3, errors: 2 });
    w.advance();
    w.advance();
    expect(w.summary()).toMatchObject({ requests: 2, errors: 1 });
    w.advance();
    expect(w.summary().requests).toBe(0);
    expect(w.summary().p99).toBeNaN();
  });

  it('clamps extreme latencies into the first and last buckets', () => {
    const w = new SlidingWindow();
    w.record(0, false);
    w.record(1e6, false);
    const s = w.summary();
    expect(s.p50).toBeGreaterThan(0);
    expect(s.p99).toBeGreaterThan(100);
  });
});
