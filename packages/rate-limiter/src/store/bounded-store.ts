/**
 * Per-limit key state with a hard size bound. A Map keeps insertion order, and every write
 * re-inserts its key, so the first entries are the least recently written: eviction takes the
 * oldest, and the idle sweep walks from the front dropping states that have expired (an
 * expired state is equivalent to none, so dropping it changes no decision).
 */
export class BoundedStore<S> {
  private readonly map = new Map<string, S>();
  evictions = 0;

  constructor(
    readonly maxKeys: number,
    private readonly expiresAt: (state: S) => number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string, now: number): S | undefined {
    const s = this.map.get(key);
    if (s !== undefined && this.expiresAt(s) <= now) {
      this.map.delete(key);
      return undefined;
    }
    return s;
  }

  set(key: string, state: S): void {
    if (!this.map.delete(key) && this.map.size >= this.maxKeys) {
      // full: the least recently written key goes (its limit restarts if it comes back)
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.evictions++;
    }
    this.map.set(key, state);
  }

  /** Drops expired states, looking at no more than `budget` entries from the oldest end. */
  sweep(now: number, budget: number): number {
    let dropped = 0;
    let seen = 0;
    for (const [key, s] of this.map) {
      if (++seen > budget) break;
      if (this.expiresAt(s) <= now) {
        this.map.delete(key);
        dropped++;
      }
    }
    return dropped;
  }
}
