import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Algorithm } from './decision.js';
import { gcra } from './gcra.js';

/** Offers requests at the given times (ms) and returns the times admitted. */
function offer<S>(alg: Algorithm<S>, times: number[]): number[] {
  let state: S | undefined;
  const admitted: number[] = [];
  for (const t of times) {
    const d = alg.decide(state, t, 1);
    if (d.allowed) {
      state = d.next;
      admitted.push(t);
    }
  }
  return admitted;
}

const evenly = (perSecond: number, seconds: number, start = 0) =>
  Array.from({ length: perSecond * seconds }, (_, i) => start + (i * 1000) / perSecond);

describe('gcra', () => {
  it('admits exactly the rate when offered twice the rate (10/s, no burst, 20/s for 10 s)', () => {
    const admitted = offer(gcra(100, 0), evenly(20, 10));
    expect(admitted).toHaveLength(100);
    // smooth: one every 100 ms, never two closer than the emission interval
    for (let i = 1; i < admitted.length; i++) expect(admitted[i]! - admitted[i - 1]!).toBe(100);
  });

  it('admits everything offered below the rate', () => {
    expect(offer(gcra(100, 0), evenly(9, 10))).toHaveLength(90);
    expect(offer(gcra(100, 0), evenly(10, 10))).toHaveLength(100);
  });

  it('admits burst + 1 at once, then the steady rate', () => {
    const alg = gcra(100, 4);
    let state: number | undefined;
    const remaining: number[] = [];
    for (let i = 0; i < 6; i++) {
      const d = alg.decide(state, 1000, 1);
      if (d.allowed) state = d.next;
      remaining.push(d.allowed ? d.remaining : -1);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0, -1]);
    const denied = alg.decide(state, 1000, 1);
    expect(denied).toMatchObject({ allowed: false, remaining: 0, retryMs: 100, resetMs: 500 });
    expect(denied.next).toBe(state); // a denial consumes nothing
    // offered 20/s for 10 s: the burst of 5 plus one per 100 ms after the first request
    expect(offer(alg, evenly(20, 10))).toHaveLength(5 + 99);
  });

  it('refills: after idling the full burst is available again', () => {
    const alg = gcra(100, 2);
    const first = offer(alg, [0, 0, 0, 0]);
    expect(first).toHaveLength(3);
    expect(offer(alg, [0, 0, 0, 300, 300, 300, 300])).toHaveLength(6);
  });

  it('reports remaining and reset for the RateLimit header', () => {
    const d = gcra(10, 99).decide(undefined, 0, 1); // 100/s, burst 99: 100 at once
    expect(d).toMatchObject({ allowed: true, remaining: 99, resetMs: 10, retryMs: 0 });
    expect(gcra(10, 0).expiresAt(d.next)).toBe(10);
  });

  it('never admits more than burst + 1 + D/T in any span of length D (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 10 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }),
        (interval, burst, raw) => {
          const times = [...raw].sort((a, b) => a - b);
          const admitted = offer(gcra(interval, burst), times);
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              const span = admitted[j]! - admitted[i]!;
              expect(j - i + 1).toBeLessThanOrEqual(burst + 1 + Math.floor(span / interval + 1e-9));
            }
          }
        },
      ),
    );
  });

  it('retryMs is exact: admitted at now + retryMs, not a millisecond before (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 1000 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 20 }),
        (interval, burst, n) => {
          const alg = gcra(interval, burst);
          let state: number | undefined;
          for (let i = 0; i < n; i++) {
            const d = alg.decide(state, 0, 1);
            if (d.allowed) state = d.next;
          }
          const d = alg.decide(state, 0, 1);
          if (d.allowed) return;
          expect(alg.decide(state, d.retryMs, 1).allowed).toBe(true);
          expect(alg.decide(state, d.retryMs - 1, 1).allowed).toBe(false);
        },
      ),
    );
  });
});
