import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS, bucketOf, bucketTable, laneSize, saltSeed, weightToBuckets } from './bucketing.js';

const ids = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
/** variant index per id for an experiment [control, experiment] at `percent` */
const assign = (salt: string, percent: number) => {
  const table = bucketTable([0, weightToBuckets(percent)], 0);
  const seed = saltSeed(salt);
  return ids.map((id) => table[bucketOf(id, seed)]!);
};

describe('bucketing', () => {
  it('puts 10% +/- 1% of 20,000 distinct ids into a 10% experiment', () => {
    const inExp = assign('checkout', 10).filter((v) => v === 1).length;
    expect(inExp / ids.length).toBeGreaterThan(0.09);
    expect(inExp / ids.length).toBeLessThan(0.11);
  });

  it('gives each user the same variant every time', () => {
    expect(assign('checkout', 10)).toEqual(assign('checkout', 10));
  });

  it('keeps every user of the first 10% when the experiment ramps to 20%', () => {
    const at10 = assign('checkout', 10);
    const at20 = assign('checkout', 20);
    const first = ids.filter((_, i) => at10[i] === 1);
    expect(first.length).toBeGreaterThan(1800);
    expect(first.every((id) => at20[ids.indexOf(id)] === 1)).toBe(true);
    const share20 = at20.filter((v) => v === 1).length / ids.length;
    expect(share20).toBeGreaterThan(0.19);
    expect(share20).toBeLessThan(0.21);
  });

  it('makes experiments with different salts independent (chi-square, 1 dof, p > 0.001)', () => {
    const a = assign('salt-a', 10);
    const b = assign('salt-b', 20);
    const n = [
      [0, 0],
      [0, 0],
    ];
    for (let i = 0; i < ids.length; i++) n[a[i]!]![b[i]!]!++;
    const rows = [n[0]![0]! + n[0]![1]!, n[1]![0]! + n[1]![1]!];
    const cols = [n[0]![0]! + n[1]![0]!, n[0]![1]! + n[1]![1]!];
    let chi2 = 0;
    for (const r of [0, 1])
      for (const c of [0, 1]) {
        const expected = (rows[r]! * cols[c]!) / ids.length;
        chi2 += (n[r]![c]! - expected) ** 2 / expected;
      }
    expect(chi2).toBeLessThan(10.83);
    // the overlap is close to the product of the shares (10% x 20% = 2%)
    expect(n[1]![1]! / ids.length).toBeGreaterThan(0.015);
    expect(n[1]![1]! / ids.length).toBeLessThan(0.025);
  });

  it('spreads buckets evenly (every decile within 5% of 2,000 ids)', () => {
    const seed = saltSeed('spread');
    const deciles = new Array(10).fill(0);
    for (const id of ids) deciles[Math.floor((bucketOf(id, seed) * 10) / BUCKETS)]++;
    for (const d of deciles) expect(Math.abs(d - 2000)).toBeLessThan(100);
  });

  it('lays out lanes: raising one variant only adds buckets to it, taken from control', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: BUCKETS }), { minLength: 5, maxLength: 5 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 0, max: BUCKETS }),
        (k, raw, which, extra) => {
          const lane = laneSize(k);
          const before = [0, ...raw.slice(0, k).map((w) => w % (lane + 1))];
          const v = 1 + (which % k);
          const after = [...before];
          after[v] = Math.min(lane, before[v]! + (extra % (lane + 1)));
          const t1 = bucketTable(before, 0);
          const t2 = bucketTable(after, 0);
          for (let b = 0; b < BUCKETS; b++) {
            // nobody leaves a non-control variant; only control users may move, and only to v
            if (t1[b] !== 0 && t2[b] !== t1[b]) return false;
            if (t1[b] === 0 && t2[b] !== 0 && t2[b] !== v) return false;
          }
          for (let i = 1; i <= k; i++) if (t2.filter((x) => x === i).length !== after[i]) return false;
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });

  it('sends a switched-off variant to control and leaves the others alone', () => {
    const t = bucketTable([0, 1000, 2000], 0, new Set([1]));
    expect(t.filter((x) => x === 1).length).toBe(0);
    expect(t.filter((x) => x === 2).length).toBe(2000);
    expect(t.filter((x) => x === 0).length).toBe(BUCKETS - 2000);
  });

  it('reproduces the worked example in the README', () => {
    const seed = saltSeed('checkout-2026');
    expect(seed).toBe(934417380);
    const at10 = bucketTable([0, weightToBuckets(10)], 0);
    const at20 = bucketTable([0, weightToBuckets(20)], 0);
    const rows = ['dave', 'erin', 'alice'].map((u) => [
      u,
      bucketOf(u, seed),
      at10[bucketOf(u, seed)],
      at20[bucketOf(u, seed)],
    ]);
    expect(rows).toEqual([
      ['dave', 7, 1, 1],
      ['erin', 1808, 0, 1],
      ['alice', 6831, 0, 0],
    ]);
  });
});
