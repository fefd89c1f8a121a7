import type { Distribution, DistServer } from './continuum.js';

/** A random live server per request, ignoring the key and (like twemproxy) the weights. */
export class RandomDistribution implements Distribution {
  readonly kind = 'random';
  private readonly table: Uint32Array;

  constructor(live: readonly DistServer[]) {
    this.table = Uint32Array.from(live, (s) => s.index);
  }

  get size(): number {
    return this.table.length;
  }

  dispatch(): number {
    return this.table[Math.floor(Math.random() * this.table.length)]!;
  }
}
