import { describe, expect, it } from 'vitest';
import { type Check, compilePolicy } from '../policy/compile.js';
import { zPolicy } from '../policy/schema.js';
import { LocalLimiter } from './local-limiter.js';

function policy(limits: object[], extra: object = {}) {
  return compilePolicy(zPolicy.parse({ name: 'p', limits, ...extra }));
}

const checksFor = (p: ReturnType<typeof policy>, key: string, enforced = true): Check[] =>
  p.limits.map((limit) => ({ policy: p, limit, key, enforced }));

describe('LocalLimiter', () => {
  it('several limits: all must pass (10/s burst 9 and 15/m)', () => {
    let now = 0;
    const lim = new LocalLimiter(1000, () => now, 0);
    const p = policy([{ rate: '10/s', burst: 9 }, { rate: '15/m' }]);
    const admitted = (n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i++) if (lim.decide(checksFor(p, 'k')).admitted) ok++;
      return ok;
    };
    // the per-second burst allows 10 at once, the minute allows only 1 (no burst) ... then 1 per 4 s
    expect(admitted(20)).toBe(1);
    now = 4000;
    expect(admitted(5)).toBe(1);
  });

  it('a request denied by one limit consumes none of the others', () => {
    let now = 0;
    const lim = new LocalLimiter(1000, () => now, 0);
    const p = policy([
      { rate: '100/s', burst: 99 },
      { rate: '3/m', burst: 2 },
    ]);
    for (let i = 0; i < 3; i++) expect(lim.decide(checksFor(p, 'k')).admitted).toBe(true);
    const denied = lim.decide(checksFor(p, 'k'));
    expect(denied.admitted).toBe(false);
    expect(denied.results[0]).toMatchObject({ allowed: true, remaining: 96 });
    expect(denied.results[1]).toMatchObject({ allowed: false, remaining: 0, retryMs: 20_000 });
    for (let i = 0; i < 50; i++) lim.decide(checksFor(p, 'k'));
    // per-second limit still shows only the 3 admitted requests consumed
    now = 20_000;
    const v = lim.decide(checksFor(p, 'k'));
    expect(v.admitted).toBe(true);
    expect(v.results[0]!.remaining).toBe(99);
  });

  it('dry-run limits count but never deny, and consume only when allowed', () => {
    const lim = new LocalLimiter(1000, () => 0, 0);
    const p = policy([{ rate: '1/s' }]);
    const results = Array.from({ length: 3 }, () => lim.decide(checksFor(p, 'k', false)));
    expect(results.map((r) => r.admitted)).toEqual([true, true, true]);
    expect(results.map((r) => r.results[0]!.allowed)).toEqual([true, false, false]);
  });

  it('keys are independent', () => {
    const lim = new LocalLimiter(1000, () => 0, 0);
    const p = policy([{ rate: '1/s' }]);
    expect(lim.decide(checksFor(p, 'a')).admitted).toBe(true);
    expect(lim.decide(checksFor(p, 'a')).admitted).toBe(false);
    expect(lim.decide(checksFor(p, 'b')).admitted).toBe(true);
  });

  it('idle keys expire: the sweep drops them', () => {
    let now = 0;
    const lim = new LocalLimiter(1000, () => now, 0);
    const p = policy([{ rate: '10/s', burst: 4 }]);
    for (let i = 0; i < 100; i++) lim.decide(checksFor(p, `k${i}`));
    expect(lim.keys().get('p/0')).toBe(100);
    now = 99; // TAT is 100 for every key: not yet idle
    expect(lim.sweep()).toBe(0);
    now = 100;
    expect(lim.sweep()).toBe(100);
    expect(lim.keys().get('p/0')).toBe(0);
  });

  it('a flood of distinct keys never holds more than --max-keys; every key over it is an eviction', () => {
    // the memory this bounds is measured in bench/rate-limiter-keys.bench.mjs (1M keys, RSS)
    let now = 0;
    const maxKeys = 5_000;
    const lim = new LocalLimiter(maxKeys, () => now, 0);
    const p = policy([{ rate: '10/m', burst: 5 }]); // state lives 6 s: no key expires during the flood
    for (let i = 0; i < 60_000; i++) {
      now += 0.0001;
      lim.decide(checksFor(p, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
      if (i % 10_000 === 0) expect(lim.keys().get('p/0')).toBeLessThanOrEqual(maxKeys);
    }
    expect(lim.keys().get('p/0')).toBe(maxKeys);
    expect(lim.evictions()).toBe(60_000 - maxKeys);
  });
});
