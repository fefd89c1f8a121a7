import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slidingWindow, type WindowState } from './sliding-window.js';

function offer(limit: number, window: number, times: number[]): number[] {
  const alg = slidingWindow(limit, window);
  let state: WindowState | undefined;
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

const evenly = (perSecond: number, seconds: number) =>
  Array.from({ length: perSecond * seconds }, (_, i) => (i * 1000) / perSecond);

describe('sliding window', () => {
  it('admits the limit at once, then nothing until the window slides', () => {
    const admitted = offer(10, 1000, [...Array(15).fill(0), 500, 999]);
    expect(admitted).toHaveLength(10);
  });

  it('weights the previous window by its overlap', () => {
    const alg = slidingWindow(10, 1000);
    // 10 in window 0; at 1250 the estimate is 10 * 0.75 = 7.5: 2 more fit (7.5 + 2 <= 10), not 3
    const state: WindowState = { w: 0, prev: 0, curr: 10 };
    const a = alg.decide(state, 1250, 1);
    expect(a).toMatchObject({ allowed: true, remaining: 1 });
    const b = alg.decide(a.next, 1250, 1);
    expect(b).toMatchObject({ allowed: true, remaining: 0 });
    const c = alg.decide(b.next, 1250, 1);
    expect(c.allowed).toBe(false);
    // 10 * (1000 - e) / 1000 + 2 + 1 <= 10  ->  e >= 300: retry at 1300
    expect(c.retryMs).toBeCloseTo(50, 6);
    expect(alg.decide(b.next, 1300, 1).allowed).toBe(true);
  });

  it('offered twice the limit for 10 s: within 1% under the limit, never over it per window', () => {
    const admitted = offer(100, 1000, evenly(200, 10));
    expect(admitted.length).toBeLessThanOrEqual(1000);
    expect(admitted.length).toBeGreaterThanOrEqual(990);
    for (let w = 0; w < 10; w++) {
      const inWindow = admitted.filter((t) => t >= w * 1000 && t < (w + 1) * 1000).length;
      expect(inWindow).toBeLessThanOrEqual(100);
    }
  });

  it('forgets state two windows later', () => {
    const alg = slidingWindow(5, 1000);
    expect(alg.expiresAt({ w: 3, prev: 1, curr: 5 })).toBe(5000);
    expect(alg.decide({ w: 3, prev: 5, curr: 5 }, 5000, 1)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('never admits more than the limit per fixed window nor 2x in any window span (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 10, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }),
        (limit, window, raw) => {
          const admitted = offer(
            limit,
            window,
            [...raw].sort((a, b) => a - b),
          );
          const perWindow = new Map<number, number>();
          for (const t of admitted) {
            const w = Math.floor(t / window);
            perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
          }
          for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(limit);
          for (let i = 0; i < admitted.length; i++) {
            let j = i;
            while (j + 1 < admitted.length && admitted[j + 1]! - admitted[i]! < window) j++;
            expect(j - i + 1).toBeLessThanOrEqual(2 * limit);
          }
        },
      ),
    );
  });

  it('retryMs is a time at which the request is admitted (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 100, max: 1000 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 3000 }),
        (limit, window, n, at) => {
          const alg = slidingWindow(limit, window);
          let state: WindowState | undefined;
          for (let i = 0; i < n; i++) {
            const d = alg.decide(state, at, 1);
            if (d.allowed) state = d.next;
          }
          const d = alg.decide(state, at, 1);
          if (d.allowed) return;
          expect(alg.decide(state, at + d.retryMs + 1e-6, 1).allowed).toBe(true);
          if (d.retryMs > 1) expect(alg.decide(state, at + d.retryMs - 1, 1).allowed).toBe(false);
        },
      ),
    );
  });
});
