/**
 * Per-limit key state with a hard size bound, organised as a CLOCK cache (second-chance
 * approximation of LRU): states live in slot arrays indexed through one Map, a key written
 * since the hand last passed gets a second chance, and when every slot is taken the hand
 * evicts the first key without one. No per-entry objects beyond the Map entry, O(1)
 * amortised eviction (a Map's insertion-order front degrades to a linear scan over deleted
 * entries under constant eviction), and an incremental sweep that drops expired states (an
 * expired state is equivalent to none, so dropping it changes no decision).
 */
export class BoundedStore<S> {
  private readonly index = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [];
  private readonly states: (S | undefined)[] = [];
  private readonly referenced: boolean[] = [];
  private readonly free: number[] = [];
  private hand = 0;
  private sweepAt = 0;
  evictions = 0;

  constructor(
    readonly maxKeys: number,
    private readonly expiresAt: (state: S) => number,
  ) {}

  get size(): number {
    return this.index.size;
  }

  get(key: string, now: number): S | undefined {
    const slot = this.index.get(key);
    if (slot === undefined) return undefined;
    const s = this.states[slot]!;
    if (this.expiresAt(s) <= now) {
      this.release(slot);
      return undefined;
    }
    return s;
  }

  set(key: string, state: S): void {
    let slot = this.index.get(key);
    if (slot === undefined) {
      slot = this.allocate();
      this.keys[slot] = key;
      this.index.set(key, slot);
    }
    this.states[slot] = state;
    this.referenced[slot] = true;
  }

  /** Drops expired states, looking at no more than `budget` slots from where the last sweep ended. */
  sweep(now: number, budget: number): number {
    const n = this.keys.length;
    let dropped = 0;
    for (let i = 0; i < Math.min(budget, n); i++) {
      if (this.sweepAt >= n) this.sweepAt = 0;
      const slot = this.sweepAt++;
      const s = this.states[slot];
      if (this.keys[slot] !== undefined && s !== undefined && this.expiresAt(s) <= now) {
        this.release(slot);
        dropped++;
      }
    }
    return dropped;
  }

  private allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.keys.length < this.maxKeys) {
      this.keys.push(undefined);
      this.states.push(undefined);
      this.referenced.push(false);
      return this.keys.length - 1;
    }
    // full: advance the hand, clearing second chances, to the first slot without one
    for (;;) {
      if (this.hand >= this.keys.length) this.hand = 0;
      const slot = this.hand++;
      if (this.referenced[slot]) {
        this.referenced[slot] = false;
        continue;
      }
      this.index.delete(this.keys[slot]!);
      this.evictions++;
      return slot;
    }
  }

  private release(slot: number): void {
    this.index.delete(this.keys[slot]!);
    this.keys[slot] = undefined;
    this.states[slot] = undefined;
    this.referenced[slot] = false;
    this.free.push(slot);
  }
}
