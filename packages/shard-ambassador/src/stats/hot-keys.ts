import { hashedKey } from './hot-key-label.js';
import { KeyCounts } from './key-counts.js';

const SLICES = 6;
const MAX_KEYS_PER_SLICE = 20_000;

export interface HotKey {
  pool: string;
  key: string;
  /** the label `--hotkeys-metric-keys hash` gives it (a keyed hash of the key's bytes) */
  hash: string;
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
  private readonly slices: KeyCounts[] = [];
  /** pool name -> small number stored with each counted key */
  private readonly poolIds = new Map<string, number>();
  private readonly poolNames: string[] = [];
  private sliceStart = 0;
  private tick = 0;
  private readonly sliceMs: number;

  constructor(
    readonly top: number,
    readonly windowMs: number,
    readonly sample: number,
  ) {
    this.sliceMs = Math.max(1, Math.floor(windowMs / SLICES));
    if (top > 0) for (let i = 0; i < SLICES; i++) this.slices.push(new KeyCounts(MAX_KEYS_PER_SLICE));
    this.sliceStart = Date.now();
  }

  get enabled(): boolean {
    return this.top > 0;
  }

  /** Counts a request for key buf[start, end) in pool (sampled). */
  record(pool: string, buf: Uint8Array, start: number, end: number): void {
    if (++this.tick < this.sample || !this.enabled) return;
    this.tick = 0;
    this.rotate(Date.now());
    this.slices[SLICES - 1]!.add(this.poolId(pool), buf, start, end);
  }

  private poolId(pool: string): number {
    let id = this.poolIds.get(pool);
    if (id === undefined) {
      id = this.poolNames.length;
      this.poolNames.push(pool);
      this.poolIds.set(pool, id);
    }
    return id;
  }

  private rotate(now: number): void {
    let steps = Math.floor((now - this.sliceStart) / this.sliceMs);
    if (steps <= 0) return;
    this.sliceStart += steps * this.sliceMs;
    if (steps > SLICES) steps = SLICES;
    for (let i = 0; i < steps; i++) {
      const oldest = this.slices.shift()!;
      oldest.clear();
      this.slices.push(oldest);
    }
  }

  /** The hottest keys now, highest rate first. */
  list(limit = this.top): HotKey[] {
    this.rotate(Date.now());
    const sum = new Map<number, Map<string, number>>();
    for (const slice of this.slices) {
      slice.forEach((pool, key, n) => {
        let total = sum.get(pool);
        if (total === undefined) {
          total = new Map();
          sum.set(pool, total);
        }
        total.set(key, (total.get(key) ?? 0) + n);
      });
    }
    const rows: { pool: string; key: string; hits: number }[] = [];
    for (const [pool, keys] of sum)
      for (const [key, hits] of keys) rows.push({ pool: this.poolNames[pool]!, key, hits });
    const seconds = this.windowMs / 1000;
    return rows
      .sort((a, b) => b.hits - a.hits)
      .slice(0, limit)
      .map(({ pool, key, hits }) => ({
        pool,
        key: Buffer.from(key, 'latin1').toString('utf8'),
        hash: hashedKey(Buffer.from(key, 'latin1')),
        hits,
        rate: (hits * this.sample) / seconds,
      }));
  }
}
