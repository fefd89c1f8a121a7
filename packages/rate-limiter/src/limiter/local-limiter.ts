import type { Decision } from '../algorithms/decision.js';
import { BoundedStore } from '../store/bounded-store.js';
import type { LimitCheck, Limiter, LimiterLimit, Verdict } from './verdict.js';

/** Entries looked at per store and sweep tick; bounds the pause a sweep can cause. */
const SWEEP_BUDGET = 20_000;

/**
 * In-process limiter: one bounded store per limit, decisions synchronous and therefore atomic.
 * All limits of a request are evaluated first and only committed if the request is admitted,
 * so a request denied by one limit consumes none of the others.
 */
export class LocalLimiter implements Limiter {
  private readonly stores = new Map<string, { signature: string; store: BoundedStore<unknown> }>();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxKeys: number,
    private readonly clock: () => number,
    sweepEveryMs = 1000,
  ) {
    if (sweepEveryMs > 0) {
      this.timer = setInterval(() => this.sweep(), sweepEveryMs);
      this.timer.unref();
    }
  }

  decide<C extends LimitCheck>(checks: readonly C[], cost = 1): Verdict<C> {
    const now = this.clock();
    const results: Decision<unknown>[] = new Array(checks.length);
    let admitted = true;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      const store = this.storeFor(c.limit);
      const d = c.limit.algorithm.decide(store.get(c.key, now), now, cost);
      results[i] = d;
      if (!d.allowed && c.enforced) admitted = false;
    }
    if (admitted) {
      for (let i = 0; i < checks.length; i++) {
        const d = results[i]!;
        if (d.allowed) this.storeFor(checks[i]!.limit).set(checks[i]!.key, d.next);
      }
    }
    return { admitted, checks, results, unavailable: false };
  }

  /** Forgets stores of limits that no longer exist (after a reload). */
  retain(limits: readonly LimiterLimit[]): void {
    const live = new Map(limits.map((l) => [l.id, l.signature]));
    for (const [id, s] of this.stores) if (live.get(id) !== s.signature) this.stores.delete(id);
  }

  keys(): Map<string, number> {
    return new Map([...this.stores].map(([id, s]) => [id, s.store.size]));
  }

  evictions(): number {
    let n = 0;
    for (const s of this.stores.values()) n += s.store.evictions;
    return n;
  }

  sweep(): number {
    const now = this.clock();
    let n = 0;
    for (const s of this.stores.values()) n += s.store.sweep(now, SWEEP_BUDGET);
    return n;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }

  private storeFor(limit: LimiterLimit): BoundedStore<unknown> {
    const s = this.stores.get(limit.id);
    if (s !== undefined && s.signature === limit.signature) return s.store;
    const store = new BoundedStore<unknown>(this.maxKeys, limit.algorithm.expiresAt);
    this.stores.set(limit.id, { signature: limit.signature, store });
    return store;
  }
}
