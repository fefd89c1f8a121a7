import { BoundedStore } from '../store/bounded-store.js';

/** One fixed-window counter to increase: the key names its window, ttl is the window's length. */
export interface WindowHit {
  key: string;
  hits: number;
  ttlSec: number;
}

/**
 * Fixed-window counters, envoyproxy/ratelimit's algorithm: INCRBY the window's key, let it expire
 * with the window; a descriptor is over its limit when the count after the increase passes it.
 * Answers the counts after the increase, or undefined when the store could not be asked.
 */
export interface WindowCounter {
  increment(hits: readonly WindowHit[]): number[] | Promise<number[] | undefined>;
}

/** In-process counters, bounded like the local limits (the least recently used go first). */
export class LocalWindowCounter implements WindowCounter {
  private readonly store: BoundedStore<{ count: number; until: number }>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    maxKeys: number,
    private readonly clock: () => number,
  ) {
    this.store = new BoundedStore(maxKeys, (s) => s.until);
    this.timer = setInterval(() => this.store.sweep(this.clock(), 20_000), 1000);
    this.timer.unref();
  }

  increment(hits: readonly WindowHit[]): number[] {
    const now = this.clock();
    return hits.map((h) => {
      const s = this.store.get(h.key, now);
      const count = (s?.count ?? 0) + h.hits;
      this.store.set(h.key, { count, until: s?.until ?? now + h.ttlSec * 1000 });
      return count;
    });
  }

  get size(): number {
    return this.store.size;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
