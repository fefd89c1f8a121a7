import type { Distribution, DistServer } from './continuum.js';
import { Ketama } from './ketama.js';
import { Modula } from './modula.js';
import { RandomDistribution } from './random.js';

export type { Distribution, DistServer } from './continuum.js';
export const DISTRIBUTIONS = ['ketama', 'modula', 'random'] as const;
export type DistributionName = (typeof DISTRIBUTIONS)[number];

export function buildDistribution(kind: DistributionName, live: readonly DistServer[]): Distribution {
  if (kind === 'ketama') return new Ketama(live);
  if (kind === 'modula') return new Modula(live);
  return new RandomDistribution(live);
}
