import { murmur3 } from './murmur3.js';

/** Users are hashed into this many buckets: a weight is a whole number of 0.01% steps. */
export const BUCKETS = 10_000;

/** The per-experiment hash seed: the salt hashed with seed 0. */
export const saltSeed = (salt: string): number => murmur3(salt, 0);

/** A user's bucket in an experiment: murmur3_x86_32(utf8(key), seed = saltSeed(salt)) mod 10000. */
export const bucketOf = (key: string, seed: number): number => murmur3(key, seed) % BUCKETS;

/** Weight in percent (0..100, 0.01 steps) to a number of buckets. */
export const weightToBuckets = (percent: number): number => Math.round(percent * (BUCKETS / 100));

/** Buckets one non-control variant may grow into when an experiment has `variants` of them. */
export const laneSize = (variants: number): number => Math.floor(BUCKETS / Math.max(1, variants));

/**
 * The bucket -> variant table. Non-control variant i (of k, in config order) owns the lane
 * [i*lane, (i+1)*lane) with lane = floor(10000/k) and takes the first n_i buckets of it;
 * control takes everything else. A variant's buckets depend only on its own weight, so raising
 * one variant's weight only adds buckets to it (taken from control) and never moves a user
 * between non-control variants: a monotonic ramp.
 *
 * @param buckets  buckets per variant, indexed like the experiment's variants (control's is ignored)
 * @param control  index of the control variant
 * @param off      variants switched off (guard tripped): their buckets go to control
 */
export function bucketTable(
  buckets: readonly number[],
  control: number,
  off: ReadonlySet<number> = new Set(),
): Uint8Array {
  const table = new Uint8Array(BUCKETS).fill(control);
  const others = buckets.map((_, i) => i).filter((i) => i !== control);
  const lane = laneSize(others.length);
  others.forEach((v, lanePos) => {
    if (off.has(v)) return;
    const start = lanePos * lane;
    const n = Math.min(buckets[v]!, lane);
    table.fill(v, start, start + n);
  });
  return table;
}
