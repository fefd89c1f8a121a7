import { BoundedStore } from '../store/bounded-store.js';

/**
 * Keys known to be over their limit until a given time, answered without asking Redis. Exact
 * for GCRA and the sliding window alike: a denial's retry time can only move later as other
 * replicas admit more, so nothing denied here would have been admitted by Redis. Bounded like
 * the local stores (a flood of distinct over-limit keys evicts, it does not grow).
 */
export class DenyCache {
  private readonly store: BoundedStore<number>;
  hits = 0;

  constructor(
    private readonly maxMs: number,
    maxKeys = 10_000,
  ) {
    this.store = new BoundedStore<number>(maxKeys, (until) => until);
  }

  /** ms until the key may be admitted, or 0 if not cached */
  get(key: string, now: number): number {
    if (this.maxMs <= 0) return 0;
    const until = this.store.get(key, now);
    if (until === undefined) return 0;
    this.hits++;
    return until - now;
  }

  add(key: string, now: number, retryMs: number): void {
    if (this.maxMs <= 0 || !(retryMs > 0)) return;
    this.store.set(key, now + Math.min(retryMs, this.maxMs));
  }

  get size(): number {
    return this.store.size;
  }
}
