import { createLogger } from '@dds/core/logger';
import { parseRedisUrl, type RedisTarget } from '@dds/core/redis/redis-target';
import { freePort, type Service, sleep, startRedis } from '@dds/test-support';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalLimiter } from '../limiter/local-limiter.js';
import type { Verdict } from '../limiter/verdict.js';
import { type Check, type CompiledPolicy, compilePolicy } from '../policy/compile.js';
import { zPolicy } from '../policy/schema.js';
import { RedisLimiter, type RedisLimiterOptions } from './redis-limiter.js';

const logger = createLogger('rate-limiter-test', 'silent');
let redis: Service;
const open: RedisLimiter[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const l of open) await l.close();
  await redis?.stop();
});

async function limiter(o: Partial<RedisLimiterOptions> & { port?: number } = {}): Promise<RedisLimiter> {
  const l = new RedisLimiter({
    target: parseRedisUrl(`redis://127.0.0.1:${o.port ?? redis.port}`) as RedisTarget,
    prefix: `t${Math.random().toString(36).slice(2)}:`,
    timeoutMs: 500,
    failMode: 'open',
    denyCacheMs: 0,
    logger,
    clock: Date.now,
    ...o,
  });
  open.push(l);
  await l.waitReady(o.port ? 0 : 5000);
  return l;
}

const policy = (limits: readonly object[]) => compilePolicy(zPolicy.parse({ name: 'p', limits }));
const checks = (p: CompiledPolicy, key: string, enforced = true): Check[] =>
  p.limits.map((limit) => ({ policy: p, limit, key, enforced }));
const summary = (v: Verdict) => [v.admitted, ...v.results.map((r) => [r.allowed, r.remaining])];

describe('RedisLimiter (real redis-server)', () => {
  it('the Lua script decides exactly as the pure functions do (property, fixed clock)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          [{ rate: '10/s', burst: 3 }],
          [{ rate: '5/s', algorithm: 'sliding-window' }],
          [{ rate: '20/s', burst: 5 }, { rate: '30/10s' }],
          [
            { rate: '7/s', burst: 2 },
            { rate: '12/2s', algorithm: 'sliding-window' },
          ],
        ),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 2 })), {
          minLength: 1,
          maxLength: 40,
        }),
        async (limits, steps) => {
          let now = 1_700_000_000_000;
          const p = policy(limits);
          const local = new LocalLimiter(1000, () => now, 0);
          const remote = await limiter({ scriptClock: () => now });
          for (const [dt, k] of steps) {
            now += dt;
            const a = local.decide(checks(p, `k${k}`));
            const b = await remote.decide(checks(p, `k${k}`));
            expect(summary(b)).toEqual(summary(a));
            if (!a.admitted) {
              const ia = a.results.findIndex((r) => !r.allowed);
              expect(b.results[ia]!.retryMs).toBe(Math.ceil(a.results[ia]!.retryMs));
            }
          }
          await remote.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('batches concurrent decisions into one call and decides them in arrival order', async () => {
    let now = 1_700_000_000_000;
    const p = policy([
      { rate: '10/s', burst: 9 },
      { rate: '100/m', burst: 14, algorithm: 'gcra' },
    ]);
    const local = new LocalLimiter(1000, () => now, 0);
    const remote = await limiter({ scriptClock: () => now });
    const keys = Array.from({ length: 120 }, (_, i) => `k${i % 3}`);
    const batched = await Promise.all(keys.map((k) => remote.decide(checks(p, k))));
    const sequential = keys.map((k) => local.decide(checks(p, k)));
    expect(batched.map(summary)).toEqual(sequential.map(summary));
    // each key: the 10 first of its requests pass, in arrival order
    expect(batched.filter((v) => v.admitted)).toHaveLength(30);
    expect(batched.slice(0, 30).every((v) => v.admitted)).toBe(true);
    now += 100;
    expect((await remote.decide(checks(p, 'k0'))).admitted).toBe(true);
  });

  it('a request denied by one limit consumes none of the others', async () => {
    // a fixed clock: with real time, 100/s refills a token every 10 ms on a slow machine
    const now = 1_700_000_000_000;
    const l = await limiter({ scriptClock: () => now });
    const p = policy([
      { rate: '100/s', burst: 99 },
      { rate: '2/m', burst: 1 },
    ]);
    expect((await l.decide(checks(p, 'k'))).admitted).toBe(true);
    expect((await l.decide(checks(p, 'k'))).admitted).toBe(true);
    for (let i = 0; i < 5; i++) expect((await l.decide(checks(p, 'k'))).admitted).toBe(false);
    const v = await l.decide(checks(p, 'k'));
    expect(v.results[0]).toMatchObject({ allowed: true, remaining: 97 });
  });

  it('reloads the script after SCRIPT FLUSH (NOSCRIPT) and keeps deciding', async () => {
    const l = await limiter();
    const p = policy([{ rate: '1/s' }]);
    expect((await l.decide(checks(p, 'a'))).admitted).toBe(true);
    const admin = new Redis(redis.port, '127.0.0.1');
    await admin.script('FLUSH');
    await admin.quit();
    const v = await l.decide(checks(p, 'a'));
    expect(v.unavailable).toBe(false);
    expect(v.admitted).toBe(false);
    expect((await l.decide(checks(p, 'b'))).admitted).toBe(true);
  });

  it('answers keys already over their limit from the deny cache', async () => {
    const l = await limiter({ denyCacheMs: 1000 });
    const p = policy([{ rate: '1/m' }]);
    await l.decide(checks(p, 'a'));
    const first = await l.decide(checks(p, 'a'));
    expect(first.admitted).toBe(false);
    const cached = l.decide(checks(p, 'a'));
    expect(cached).not.toBeInstanceOf(Promise); // answered without a round trip
    expect((cached as Verdict).admitted).toBe(false);
    expect(l.denyCache.hits).toBe(1);
  });

  it('fails open or closed while Redis is down, and recovers when it comes back', async () => {
    const port = await freePort();
    const p = policy([{ rate: '1/m' }]);
    const states: boolean[] = [];
    const prefix = 'shared:';
    const failOpen = await limiter({
      port,
      prefix,
      failMode: 'open',
      onStateChange: (up) => states.push(up),
    });
    const failClosed = await limiter({ port, prefix, failMode: 'closed' });
    const down = [await failOpen.decide(checks(p, 'a')), await failClosed.decide(checks(p, 'a'))];
    expect(down.map((v) => [v.unavailable, v.admitted])).toEqual([
      [true, true],
      [true, false],
    ]);
    expect(failOpen.up).toBe(false);
    const late = await startRedis([], port);
    try {
      for (let i = 0; i < 100 && !(failOpen.up && failClosed.up); i++) await sleep(50);
      expect(states).toEqual([false, true]);
      const a = await failOpen.decide(checks(p, 'a'));
      const b = await failClosed.decide(checks(p, 'a'));
      expect([a.unavailable, a.admitted, b.unavailable, b.admitted]).toEqual([false, true, false, false]);
    } finally {
      await late.stop();
    }
  });
});
