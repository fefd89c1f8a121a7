const SLICES = 6;
const MAX_KEYS_PER_SLICE = 20_000;

export interface HotKey {
  pool: string;
  key: string;
  /** estimated requests per second over the window */
  rate: number;
  /** sampled hits in the window (times the sample rate = estimated requests) */
  hits: number;
}

/**
 * Top-K keys by request rate over a sliding window. One request in `sample` is counted, into
 * the current of six time slices; the window's view merges the slices. Each slice is capped,
 * so a flood of distinct keys costs bounded memory (new keys are then ignored until the next
 * slice, hot keys having been counted already).
 */
export class HotKeys {
  /** per slice: pool -> key -> sampled hits (a map per pool: no "pool + key" string per sample) */
  private slices: Map<string, Map<string, number>>[] = [];
  /** keys in the current slice, over all pools */
  private currentKeys = 0;
  private sliceStart = 0;
  private tick = 0;
  private readonly sliceMs: number;

  constructor(
    readonly top: number,
    readonly windowMs: number,
    readonly sample: number,
  ) {
    this.sliceMs = Math.max(1, Math.floor(windowMs / SLICES));
    for (let i = 0; i < SLICES; i++) this.slices.push(new Map());
    this.sliceStart = Date.now();
  }

  get enabled(): boolean {
    return this.top > 0;
  }

  /** Counts a request for key buf[start, end) in pool (sampled). */
  record(pool: string, buf: Buffer, start: number, end: number): void {
    if (++this.tick < this.sample) return;
    this.tick = 0;
    this.rotate(Date.now());
    const slice = this.slices[SLICES - 1]!;
    let keys = slice.get(pool);
    if (keys === undefined) {
      keys = new Map();
      slice.set(pool, keys);
    }
    const key = buf.toString('latin1', start, Math.min(end, start + 256));
    const n = keys.get(key);
    if (n !== undefined) keys.set(key, n + 1);
    else if (this.currentKeys < MAX_KEYS_PER_SLICE) {
      keys.set(key, 1);
      this.currentKeys++;
    }
  }

  private rotate(now: number): void {
    let steps = Math.floor((now - this.sliceStart) / this.sliceMs);
    if (steps <= 0) return;
    this.sliceStart += steps * this.sliceMs;
    if (steps > SLICES) steps = SLICES;
    for (let i = 0; i < steps; i++) {
      this.slices.shift();
      this.slices.push(new Map());
    }
    this.currentKeys = 0;
  }

  /** The hottest keys now, highest rate first. */
  list(limit = this.top): HotKey[] {
    this.rotate(Date.now());
    const sum = new Map<string, Map<string, number>>();
    for (const slice of this.slices) {
      for (const [pool, keys] of slice) {
        let total = sum.get(pool);
        if (total === undefined) {
          total = new Map();
          sum.set(pool, total);
        }
        for (const [k, n] of keys) total.set(k, (total.get(k) ?? 0) + n);
      }
    }
    const rows: { pool: string; key: string; hits: number }[] = [];
    for (const [pool, keys] of sum) for (const [key, hits] of keys) rows.push({ pool, key, hits });
    const seconds = this.windowMs / 1000;
    return rows
      .sort((a, b) => b.hits - a.hits)
      .slice(0, limit)
      .map(({ pool, key, hits }) => ({
        pool,
        key: Buffer.from(key, 'latin1').toString('utf8'),
        hits,
        rate: (hits * this.sample) / seconds,
      }));
  }
}
