import type { Distribution, DistServer } from './continuum.js';

/** hash % total weight over a table where each live server appears `weight` times, in order. */
export class Modula implements Distribution {
  readonly kind = 'modula';
  private readonly table: Uint32Array;

  constructor(live: readonly DistServer[]) {
    const slots: number[] = [];
    for (const s of live) for (let w = 0; w < s.weight; w++) slots.push(s.index);
    this.table = Uint32Array.from(slots);
  }

  get size(): number {
    return this.table.length;
  }

  dispatch(hash: number): number {
    return this.table[hash % this.table.length]!;
  }
}
