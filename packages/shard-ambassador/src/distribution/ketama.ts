import { md5Word } from '../hash/md5.js';
import type { Distribution, DistServer } from './continuum.js';

const POINTS_PER_SERVER = 160;
const POINTS_PER_HASH = 4;
const f = Math.fround;
const BUCKET_SHIFT = 20;
const BUCKETS = 2 ** (32 - BUCKET_SHIFT);

/**
 * Ketama consistent hashing exactly as twemproxy 0.5 builds it: each live server gets
 * floor(weight share * 40 * live servers) hashes of "<name>-<i>", four points per md5 digest,
 * computed in single-precision float like the C code (that rounding decides point counts).
 */
export class Ketama implements Distribution {
  readonly kind = 'ketama';
  private readonly values: Uint32Array;
  private readonly owners: Uint32Array;
  /**
   * first[b]: index of the first point >= b << BUCKET_SHIFT (values.length when none), for
   * b in 0..BUCKETS: a key's search starts at its bucket and ends at the next one, a point or
   * two instead of a binary search over the whole ring.
   */
  private readonly first: Uint32Array;

  constructor(live: readonly DistServer[]) {
    const total = live.reduce((s, x) => s + x.weight, 0);
    const points: { value: number; index: number }[] = [];
    for (const s of live) {
      const pct = f(f(s.weight) / f(total));
      const perServer =
        Math.floor(f(f(f(f(pct * POINTS_PER_SERVER) / 4) * f(live.length)) + 0.0000000001)) * 4;
      for (let i = 0; i < perServer / POINTS_PER_HASH; i++) {
        // twemproxy formats the point name into an 86-byte buffer, so longer names are cut
        const host = Buffer.from(`${s.name}-${i}`).subarray(0, 85);
        for (let x = 0; x < POINTS_PER_HASH; x++) points.push({ value: md5Word(host, x), index: s.index });
      }
    }
    points.sort((a, b) => a.value - b.value);
    this.values = Uint32Array.from(points, (p) => p.value);
    this.owners = Uint32Array.from(points, (p) => p.index);
    this.first = new Uint32Array(BUCKETS + 1);
    let i = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      const low = b * 2 ** BUCKET_SHIFT; // 2^32 for the last entry: above every point
      while (i < this.values.length && this.values[i]! < low) i++;
      this.first[b] = i;
    }
  }

  get size(): number {
    return this.values.length;
  }

  /** The first point >= hash, wrapping around to the first point. */
  dispatch(hash: number): number {
    const v = this.values;
    const b = hash >>> BUCKET_SHIFT;
    let i = this.first[b]!;
    const stop = this.first[b + 1]!;
    while (i < stop && v[i]! < hash) i++;
    return this.owners[i === v.length ? 0 : i]!;
  }
}
