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
  private slices: Map<string, number>[] = [];
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
    const id = `${pool}\u0000${buf.toString('latin1', start, Math.min(end, start + 256))}`;
    const n = slice.get(id);
    if (n !== undefined) slice.set(id, n + 1);
    else if (slice.size < MAX_KEYS_PER_SLICE) slice.set(id, 1);
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
  }

  /** The hottest keys now, highest rate first. */
  list(limit = this.top): HotKey[] {
    this.rotate(Date.now());
    const sum = new Map<string, number>();
    for (const s of this.slices) for (const [k, n] of s) sum.set(k, (sum.get(k) ?? 0) + n);
    const seconds = this.windowMs / 1000;
    return [...sum]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([id, hits]) => {
        const cut = id.indexOf('\u0000');
        return {
          pool: id.slice(0, cut),
          key: Buffer.from(id.slice(cut + 1), 'latin1').toString('utf8'),
          hits,
          rate: (hits * this.sample) / seconds,
        };
      });
  }
}
