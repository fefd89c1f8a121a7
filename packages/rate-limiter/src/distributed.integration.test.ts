import { existsSync } from 'node:fs';
import {
  freePort,
  type Proc,
  type Service,
  sleep,
  startComponent,
  startRedis,
  tempDir,
  waitForPort,
} from '@dds/test-support';
import { type Decision, gcraReplay, readDecisions } from '@dds/test-support/gcra-replay';
import { offerLoad, type RecordingUpstream, startUpstream } from '@dds/test-support/recording-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let upstream: RecordingUpstream;
let redis: Service | undefined;
const procs: Proc[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await redis?.stop();
  await upstream?.close();
});

async function limiter(redisPort: number, args: string[]) {
  const [port, admin] = [await freePort(), await freePort()];
  const p = startComponent('rate-limiter', [
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    upstream.url,
    '--admin',
    `127.0.0.1:${admin}`,
    '--redis',
    `redis://127.0.0.1:${redisPort}`,
    '--redis-timeout',
    '2s', // a loaded CI machine must not turn slow answers into fail-open/closed events
    ...args,
  ]);
  procs.push(p);
  await p.waitFor('started');
  return { p, base: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${admin}` };
}

const metric = async (admin: string, name: string) =>
  Number(
    new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${admin}/metrics`)).text())?.[1] ??
      Number.NaN,
  ); // NaN when absent: a missing series never reads as 0

describe('distributed mode: two limiters sharing one redis-server', () => {
  it('admit no more than the shared limit, fail open/closed when Redis stops, recover when it returns', async () => {
    redis = await startRedis();
    const redisPort = redis.port;
    const common = ['--rate', '40/s', '--burst', '4', '--key', 'header:x-client'];
    const logs = tempDir('rl-gcra');
    const a = await limiter(redisPort, [
      ...common,
      '--fail-mode',
      'open',
      '--access-log',
      `file:${logs}/a.jsonl`,
    ]);
    const b = await limiter(redisPort, [
      ...common,
      '--fail-mode',
      'closed',
      '--access-log',
      `file:${logs}/b.jsonl`,
    ]);
    const init = { headers: { 'x-client': 'c1' } };

    // each replica is offered the whole limit: together twice the limit, for 3 s
    const [ra, rb] = await Promise.all([
      offerLoad(`${a.base}/`, 40, 3, init),
      offerLoad(`${b.base}/`, 40, 3, init),
    ]);
    const all = [...ra.statuses, ...rb.statuses];
    expect(all.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const admitted = all.filter((s) => s === 200).length;
    const span = Math.max(ra.spanMs, rb.spanMs);
    // exact GCRA bound over the span (one Redis clock): burst + 1 + span / 25 ms; +1 for the
    // clock edge between the two load generators. The floor only checks that the shared limit
    // admits beyond one burst: on a loaded machine requests reach the limiters in clumps and
    // each clump gets at most a burst, so how close to the bound it gets is the benchmark's
    // business (bench/rate-limiter.bench.mjs), not a test's.
    const bound = 5 + Math.ceil(span / 25) + 1;
    console.log(
      `two replicas, 40/s shared, offered 80/s for ${span.toFixed(0)} ms: admitted ${admitted} (bound ${bound})`,
    );
    expect(admitted).toBeLessThanOrEqual(bound);
    // both ways: GCRA replayed over the arrival times both limiters saw (their access logs)
    // admits the same count, up to the clock edges of two processes and Redis' batched TIME
    let decisions: Decision[] = [];
    for (const end = Date.now() + 10_000; ; await sleep(50)) {
      const read = (f: string) => (existsSync(f) ? readDecisions(f) : []);
      decisions = [...read(`${logs}/a.jsonl`), ...read(`${logs}/b.jsonl`)].sort((x, y) => x.at - y.at);
      if (decisions.length === all.length) break;
      if (Date.now() > end) throw new Error(`${decisions.length} of ${all.length} decisions logged`);
    }
    const replayed = gcraReplay(
      decisions.map((d) => d.at),
      25,
      4,
    );
    expect(
      Math.abs(admitted - replayed),
      `admitted ${admitted}, GCRA over the arrivals ${replayed}`,
    ).toBeLessThanOrEqual(Math.max(3, Math.ceil(replayed * 0.05)));
    expect(ra.statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(rb.statuses.filter((s) => s === 200).length).toBeGreaterThan(0);

    // Redis stops: A admits (fail open), B refuses with 503 (fail closed); both log and count it
    await redis.stop();
    // both limiters have seen it go (their connections closed), before any request asks
    await a.p.waitFor('redis unavailable: failing open');
    await b.p.waitFor('redis unavailable: failing closed');
    const down = { a: [] as number[], b: [] as number[] };
    for (let i = 0; i < 10; i++) {
      down.a.push((await fetch(`${a.base}/`, init)).status);
      down.b.push((await fetch(`${b.base}/`, init)).status);
    }
    expect(down.a).toEqual(Array(10).fill(200));
    expect(down.b).toEqual(Array(10).fill(503));
    expect(await metric(a.admin, 'dds_ratelimit_fail_open_total')).toBeGreaterThanOrEqual(10);
    expect(await metric(b.admin, 'dds_ratelimit_fail_closed_total')).toBeGreaterThanOrEqual(10);
    expect(await metric(a.admin, 'dds_ratelimit_redis_up')).toBe(0);

    // Redis returns (empty) on the same port: both recover on their own and enforce again
    redis = await startRedis([], redisPort);
    await a.p.waitFor('redis recovered', 10_000);
    await b.p.waitFor('redis recovered', 10_000);
    // 60 at once over both replicas: the shared burst and what refills meanwhile pass, the rest 429
    const after = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        fetch(`${i % 2 ? a.base : b.base}/`, init).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    expect(after.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(after.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
    expect(after.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(await metric(a.admin, 'dds_ratelimit_redis_up')).toBe(1);
    expect(await metric(a.admin, 'dds_ratelimit_redis_errors_total')).toBeGreaterThan(0);
  }, 40_000);
});

describe('--workers 2 (distributed mode only)', () => {
  it('two worker processes share the Redis limit; the admin port sums their metrics', async () => {
    const r = await startRedis();
    const { p, base, admin } = await limiter(r.port, [
      '--rate',
      '20/m',
      '--burst',
      '9',
      '--key',
      'header:x-client',
      '--workers',
      '2',
    ]);
    try {
      await waitForPort(Number(new URL(base).port)); // the workers listen after the primary started
      const init = { headers: { 'x-client': 'w' } };
      // new connections each time: the primary hands them to both workers in turn
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${base}/`, { ...init, headers: { ...init.headers, connection: 'close' } });
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      // burst 9 + 1: ten admitted in all, whichever worker answered; the rest refused
      expect(statuses.filter((s) => s === 200).length).toBe(10);
      expect(statuses.filter((s) => s === 429).length).toBe(20);
      expect(await metric(admin, 'dds_ratelimit_redis_up')).toBe(2); // one per worker, summed
      const allowed = Number(
        /^dds_ratelimit_decisions_total\{[^}]*outcome="allowed"[^}]*\} (\S+)$/m.exec(
          await (await fetch(`${admin}/metrics`)).text(),
        )?.[1],
      );
      expect(allowed).toBe(10);
    } finally {
      await p.kill();
      await r.stop();
    }
  }, 30_000);
});
