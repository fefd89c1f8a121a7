import type { Algorithm, Decision } from './decision.js';

/** Counts of the current fixed window (index w) and the one before it. */
export interface WindowState {
  w: number;
  prev: number;
  curr: number;
}

/**
 * Sliding-window counter (as in Cloudflare's and Envoy's): the count over the last `window` is
 * estimated from two fixed windows, weighting the previous one by how much of it still overlaps:
 *   w = floor(now / W), e = now - w * W
 *   estimate = prev * (W - e) / W + curr
 *   admit  iff  estimate + cost <= limit        (then curr += cost)
 * It never admits more than `limit` per fixed window and at most 2 * limit in any W-long span
 * (exactly `limit` if traffic is even); two integers per key instead of a log of timestamps.
 */
export function slidingWindow(limit: number, window: number): Algorithm<WindowState> {
  return {
    decide(state, now, cost): Decision<WindowState> {
      const w = Math.floor(now / window);
      let prev = 0;
      let curr = 0;
      if (state !== undefined) {
        if (state.w === w) {
          prev = state.prev;
          curr = state.curr;
        } else if (state.w === w - 1) prev = state.curr;
      }
      const elapsed = now - w * window;
      const weighted = (prev * (window - elapsed)) / window;
      const estimate = weighted + curr;
      if (estimate + cost <= limit) {
        const after = curr + cost;
        return {
          allowed: true,
          next: { w, prev, curr: after },
          remaining: Math.floor(limit - estimate - cost + 1e-9),
          resetMs: after > 0 ? 2 * window - elapsed : prev > 0 ? window - elapsed : 0,
          retryMs: 0,
        };
      }
      return {
        allowed: false,
        next: { w, prev, curr },
        remaining: 0,
        resetMs: curr > 0 ? 2 * window - elapsed : window - elapsed,
        retryMs: retryAfter(limit, window, prev, curr, elapsed, cost),
      };
    },
    expiresAt: (s) => (s.w + 2) * window,
  };
}

/** Time until estimate + cost <= limit, solving the linear decay of the weighted previous window. */
function retryAfter(limit: number, window: number, prev: number, curr: number, e: number, cost: number) {
  if (curr + cost <= limit && prev > 0) {
    // prev * (W - e') / W + curr + cost <= limit  ->  e' >= W - (limit - curr - cost) * W / prev
    return Math.max(0, window - ((limit - curr - cost) * window) / prev - e);
  }
  if (cost > limit) return Number.POSITIVE_INFINITY;
  // wait for the next window, where the current count becomes the weighted previous one
  const into = curr > 0 ? Math.max(0, window - ((limit - cost) * window) / curr) : 0;
  return window - e + into;
}
