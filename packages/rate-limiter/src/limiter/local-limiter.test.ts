import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bin, run } from '../../../../test/support/index.js';
import { type Check, compilePolicy } from '../policy/compile.js';
import { zPolicy } from '../policy/schema.js';
import { LocalLimiter } from './local-limiter.js';

const DIST = bin('rate-limiter').replace(/main\.js$/, '');

/** Offers 1M distinct keys to a LocalLimiter from the build; prints RSS (MiB) at 500k and 1M. */
const FLOOD_SCRIPT = `
const { LocalLimiter } = await import('${DIST}limiter/local-limiter.js');
const { compilePolicy } = await import('${DIST}policy/compile.js');
const { zPolicy } = await import('${DIST}policy/schema.js');
let now = 0;
const lim = new LocalLimiter(Number(process.argv[1]), () => now, 0);
const p = compilePolicy(zPolicy.parse({ name: 'p', limits: [{ rate: '10/m', burst: 5 }] }));
const limit = p.limits[0];
for (let i = 0; i < 1000000; i++) {
  now += 0.001;
  lim.decide([{ policy: p, limit, key: '10.' + ((i >> 16) & 255) + '.' + ((i >> 8) & 255) + '.' + (i & 255), enforced: true }]);
  if ((i + 1) % 250000 === 0) gc();
  if (i + 1 === 500000 || i + 1 === 1000000) console.log((process.memoryUsage().rss / 1048576).toFixed(1));
}
`;

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

  it('1M distinct keys keep memory bounded by --max-keys', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let now = 0;
    const maxKeys = 50_000;
    const lim = new LocalLimiter(maxKeys, () => now, 0);
    const p = policy([{ rate: '10/m', burst: 5 }]); // state lives 6 s: no key expires during the flood
    const flood = (from: number, n: number) => {
      for (let i = from; i < from + n; i++) {
        now += 0.001;
        lim.decide(checksFor(p, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
      }
    };
    // fill the store and churn it once so the heap reaches its working size, then 750k more keys
    flood(0, 250_000);
    gc();
    const atMax = process.memoryUsage();
    flood(250_000, 750_000);
    gc();
    const after = process.memoryUsage();
    expect(lim.keys().get('p/0')).toBe(maxKeys);
    expect(lim.evictions()).toBe(1_000_000 - maxKeys);
    // 750k more distinct keys: heap and RSS stay where they were (± noise)
    const growthMiB = (after.heapUsed - atMax.heapUsed) / 2 ** 20;
    console.log(
      `1M keys in-process: heapUsed ${(after.heapUsed / 2 ** 20).toFixed(1)} MiB (+${growthMiB.toFixed(1)} over the last 750k keys)`,
    );
    expect(growthMiB).toBeLessThan(16);
  }, 60_000);

  it('1M distinct keys keep RSS flat in a clean process; without the bound it grows', async () => {
    // RSS is only meaningful in a process of its own (the test runner's heap moves it too)
    const flood = (maxKeys: number) =>
      run(process.execPath, ['--expose-gc', '--input-type=module', '-e', FLOOD_SCRIPT, String(maxKeys)], {
        timeoutMs: 120_000,
      });
    const [bounded, unbounded] = await Promise.all([flood(50_000), flood(100_000_000)]);
    expect(bounded.code, bounded.stderr).toBe(0);
    expect(unbounded.code, unbounded.stderr).toBe(0);
    const rss = (out: string) => out.trim().split('\n').map(Number);
    const [b500k, b1m] = rss(bounded.stdout);
    const [u500k, u1m] = rss(unbounded.stdout);
    console.log(
      `RSS MiB after 500k / 1M distinct keys: max-keys 50000 ${b500k} / ${b1m}; unbounded ${u500k} / ${u1m}`,
    );
    expect(b1m! - b500k!).toBeLessThan(24);
    expect(u1m! - u500k!).toBeGreaterThan(48);
  }, 130_000);
});
