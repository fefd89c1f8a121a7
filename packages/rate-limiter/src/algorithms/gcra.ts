import type { Algorithm, Decision } from './decision.js';

/**
 * GCRA (generic cell rate algorithm), the exact, smooth equivalent of a token bucket holding
 * `burst + 1` tokens refilled one per `interval`: the only state is the theoretical arrival
 * time (TAT) of the next request. With T = interval and tau = burst * T:
 *   tat' = max(tat, now) + cost * T
 *   admit  iff  tat' - (tau + T) <= now        (else retry after tat' - tau - T - now)
 *   remaining = floor((now - (tat' - tau - T)) / T)
 * A denial changes nothing, so denied requests never consume capacity.
 */
export function gcra(interval: number, burst: number): Algorithm<number> {
  const capacity = (burst + 1) * interval; // tau + T
  return {
    decide(tat, now, cost): Decision<number> {
      const base = tat === undefined || tat < now ? now : tat;
      const next = base + cost * interval;
      const allowAt = next - capacity;
      if (now < allowAt) {
        return { allowed: false, next: base, remaining: 0, resetMs: base - now, retryMs: allowAt - now };
      }
      return {
        allowed: true,
        next,
        remaining: Math.floor((now - allowAt) / interval + 1e-9),
        resetMs: next - now,
        retryMs: 0,
      };
    },
    expiresAt: (tat) => tat,
  };
}
