import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeHealthResponse,
  encodeHealthRequest,
  HEALTH_WATCH_PATH,
  SERVING_STATUS,
} from '@dds/core/protobuf/grpc-health';
import {
  freePort,
  type Proc,
  type RlsClient,
  type RlsRequestJson,
  type RlsResponseJson,
  rlsClient,
  rlsHealth,
  rlsLoad,
  run,
  type Service,
  startComponent,
  startEnvoyRatelimit,
  startRedis,
  tempDir,
  waitForHttp,
} from '@dds/test-support';
import { bin } from '@dds/test-support/process';
import { Client, credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Limits per day: far from any window or refill boundary while a test runs, so every count is
// exact for the fixed window, GCRA (a bucket of N refilled over a day) and the sliding window.
const CONFIG = `
domain: dds
descriptors:
  - key: api_key
    rate_limit: { unit: day, requests_per_unit: 10 }
    descriptors:
      - key: path
        value: /upload
        rate_limit: { unit: day, requests_per_unit: 4 }
  - key: remote_address
    rate_limit: { unit: day, requests_per_unit: 7 }
  - key: remote_address
    value: 10.0.0.1
    rate_limit: { unlimited: true }
  - key: header_match
    value: shadow
    shadow_mode: true
    rate_limit: { unit: day, requests_per_unit: 2 }
  - key: tier
    value: free
    rate_limit: { name: free, unit: day, requests_per_unit: 3 }
  - key: tier
    value: paid
    rate_limit: { name: paid, unit: day, requests_per_unit: 5, replaces: [{ name: free }] }
  - key: user
    value: carol
    detailed_metric: true
    rate_limit: { unit: day, requests_per_unit: 6 }
`;

const procs: Proc[] = [];
const clients: RlsClient[] = [];
let redis: Service;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await redis?.stop();
});

interface Limiter {
  proc: Proc;
  grpc: string;
  admin: string;
  client: RlsClient;
  dir: string;
}

async function startLimiter(args: string[], config = CONFIG): Promise<Limiter> {
  const dir = tempDir('rls');
  writeFileSync(join(dir, 'config.yaml'), config);
  const [port, admin] = [await freePort(), await freePort()];
  const proc = startComponent('rate-limiter', [
    '--rls-config',
    dir,
    '--rls-listen',
    `127.0.0.1:${port}`,
    '--admin',
    `127.0.0.1:${admin}`,
    '--reload-interval',
    '200ms',
    ...args,
  ]);
  procs.push(proc);
  await proc.waitFor('started');
  const client = rlsClient(`127.0.0.1:${port}`);
  clients.push(client);
  return { proc, grpc: `127.0.0.1:${port}`, admin: `http://127.0.0.1:${admin}`, client, dir };
}

const d = (...kv: string[]) => ({
  entries: Array.from({ length: kv.length / 2 }, (_, i) => ({ key: kv[2 * i]!, value: kv[2 * i + 1]! })),
});
const req = (descriptors: RlsRequestJson['descriptors'], hits?: number): RlsRequestJson => ({
  domain: 'dds',
  descriptors,
  ...(hits ? { hits_addend: hits } : {}),
});
/** grpc.health.v1 Watch for service "" over grpc-js: the statuses as they are pushed. */
function healthWatch(addr: string) {
  const client = new Client(addr, credentials.createInsecure());
  const seen: string[] = [];
  let wake = () => {};
  const call = client.makeServerStreamRequest(
    HEALTH_WATCH_PATH,
    (b: Buffer) => b,
    decodeHealthResponse,
    encodeHealthRequest(''),
  );
  call.on('data', (s: number) => {
    seen.push(SERVING_STATUS[s] ?? String(s));
    wake();
  });
  call.on('error', () => {});
  let taken = 0;
  return {
    /** the next n statuses pushed */
    async next(n: number): Promise<string[]> {
      const until = Date.now() + 10_000;
      while (seen.length < taken + n && Date.now() < until)
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      const out = seen.slice(taken, taken + n);
      taken += n;
      return out;
    },
    close() {
      call.cancel();
      client.close();
    },
  };
}

const brief = (r: RlsResponseJson) => [r.overall_code, ...r.statuses.map((s) => [s.code, s.limit_remaining])];
const metric = async (admin: string, pattern: RegExp) =>
  Number(pattern.exec(await (await fetch(`${admin}/metrics`)).text())?.[1] ?? Number.NaN); // NaN when absent: a missing series never reads as 0

const STORES = [
  ['local', 'fixed-window'],
  ['local', 'gcra'],
  ['local', 'sliding-window'],
  ['redis', 'fixed-window'],
  ['redis', 'gcra'],
] as const;

describe.each(STORES)('RLS over gRPC (Go client from Envoy stubs), %s store, %s', (store, algorithm) => {
  let l: Limiter;
  beforeAll(async () => {
    l = await startLimiter([
      '--rls-algorithm',
      algorithm,
      ...(store === 'redis'
        ? [
            '--redis',
            `redis://127.0.0.1:${redis.port}`,
            '--rls-redis-prefix',
            `t-${algorithm}:`,
            '--redis-prefix',
            `t-${algorithm}:`,
          ]
        : []),
    ]);
  });

  it('admits exactly the limit per descriptor, nested ones on their own', async () => {
    const parent = d('api_key', `k-${algorithm}`);
    const nested = d('api_key', `k-${algorithm}`, 'path', '/upload');
    const seen: unknown[] = [];
    for (let i = 0; i < 12; i++) seen.push(brief(await l.client.call(req([parent, nested]))));
    // the nested limit (4) refuses from the 5th call; the parent (10) counts on
    expect(seen.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => ['OK', ['OK', 9 - i], ['OK', 3 - i]]));
    expect(seen[4]).toEqual(['OVER_LIMIT', ['OK', 5], ['OVER_LIMIT', 0]]);
    expect(seen[9]).toEqual(['OVER_LIMIT', ['OK', 0], ['OVER_LIMIT', 0]]);
    expect(seen[10]).toEqual(['OVER_LIMIT', ['OVER_LIMIT', 0], ['OVER_LIMIT', 0]]);
    const first = await l.client.call(req([parent]));
    expect(first.statuses[0]!.current_limit).toEqual({ name: '', requests_per_unit: 10, unit: 'DAY' });
    expect(first.statuses[0]!.duration_until_reset).toMatch(/^\d+(\.\d+)?s$/);
    // a value the config does not name falls back to the bare key; an unknown key has no limit
    const other = await l.client.call(req([d('remote_address', '192.0.2.9'), d('nothing', 'x')]));
    expect(brief(other)).toEqual(['OK', ['OK', 6], ['OK', 0]]);
    expect(other.statuses[1]!.current_limit).toBeNull();
  });

  it('hits_addend: per request, per descriptor (0 checks without counting)', async () => {
    const ip = d('remote_address', `203.0.113.${algorithm.length}`);
    expect(brief(await l.client.call(req([ip], 3)))).toEqual(['OK', ['OK', 4]]);
    expect(brief(await l.client.call(req([{ ...ip, hits_addend: 0 }])))).toEqual(['OK', ['OK', 4]]);
    expect(brief(await l.client.call(req([ip], 3)))).toEqual(['OK', ['OK', 1]]);
    expect(brief(await l.client.call(req([ip], 3)))).toEqual(['OVER_LIMIT', ['OVER_LIMIT', 0]]);
    expect(
      await metric(
        l.admin,
        /^dds_ratelimit_rls_hits_total\{domain="dds",descriptor="dds.remote_address",outcome="allowed"\} (\d+)/m,
      ),
    ).toBeGreaterThanOrEqual(6);
  });

  it('unlimited, shadow mode, replaces, unknown domains, limits set by the caller', async () => {
    const unlimited = await l.client.call(req([d('remote_address', '10.0.0.1')], 1000));
    expect(unlimited.statuses[0]).toMatchObject({
      code: 'OK',
      limit_remaining: 4294967295,
      current_limit: null,
    });
    const shadow: unknown[] = [];
    for (let i = 0; i < 4; i++) shadow.push(brief(await l.client.call(req([d('header_match', 'shadow')]))));
    expect(shadow).toEqual([
      ['OK', ['OK', 1]],
      ['OK', ['OK', 0]],
      ['OK', ['OK', 0]],
      ['OK', ['OK', 0]],
    ]);
    expect(
      await metric(
        l.admin,
        /^dds_ratelimit_rls_decisions_total\{domain="dds",descriptor="dds.header_match_shadow",outcome="shadow_denied"\} (\d+)/m,
      ),
    ).toBe(2);
    // paid replaces free: free is not applied, paid counts
    const both = await l.client.call(req([d('tier', 'free'), d('tier', 'paid')]));
    expect(brief(both)).toEqual(['OK', ['OK', 0], ['OK', 4]]);
    expect(both.statuses[0]!.current_limit).toBeNull();
    const alone = await l.client.call(req([d('tier', 'free')]));
    expect(brief(alone)).toEqual(['OK', ['OK', 2]]);
    expect(brief(await l.client.call({ domain: 'elsewhere', descriptors: [d('api_key', 'x')] }))).toEqual([
      'OK',
      ['OK', 0],
    ]);
    const set = { ...d('caller', `c-${algorithm}`), limit: { requests_per_unit: 2, unit: 'DAY' } };
    const sets: unknown[] = [];
    for (let i = 0; i < 3; i++) sets.push(brief(await l.client.call(req([set]))));
    expect(sets).toEqual([
      ['OK', ['OK', 1]],
      ['OK', ['OK', 0]],
      ['OVER_LIMIT', ['OVER_LIMIT', 0]],
    ]);
    // detailed_metric labels the descriptor with its values
    await l.client.call(req([d('user', 'carol')]));
    expect(
      await metric(
        l.admin,
        /^dds_ratelimit_rls_decisions_total\{domain="dds",descriptor="dds.user_carol",outcome="allowed"\} (\d+)/m,
      ),
    ).toBe(1);
  });

  it('empty domain or no descriptors: INVALID_ARGUMENT', async () => {
    await expect(l.client.call({ domain: '', descriptors: [d('a', 'b')] })).rejects.toThrow(
      /InvalidArgument.*domain must not be empty/,
    );
    await expect(l.client.call({ domain: 'dds', descriptors: [] })).rejects.toThrow(
      /InvalidArgument.*descriptor list/,
    );
  });
});

describe('RLS service', () => {
  it('grpc.health.v1: SERVING for "" and the RLS service, NOT_FOUND otherwise; NOT_SERVING while draining', async () => {
    const l = await startLimiter(['--shutdown-delay', '3s']);
    expect(await rlsHealth(l.grpc)).toBe('SERVING');
    expect(await rlsHealth(l.grpc, 'envoy.service.ratelimit.v3.RateLimitService')).toBe('SERVING');
    expect(await rlsHealth(l.grpc, 'other')).toMatch(/NotFound/);
    l.proc.child.kill('SIGTERM');
    await l.proc.waitFor('draining');
    // during the shutdown delay the listener still answers, but says it is going away
    expect(await rlsHealth(l.grpc)).toMatch(/NOT_SERVING|Unavailable/);
  });

  it('fail closed: Redis down -> OVER_LIMIT and NOT_SERVING; fail open -> OK; both recover', async () => {
    const own = await startRedis();
    const url = `redis://127.0.0.1:${own.port}`;
    const closed = await startLimiter(['--redis', url, '--fail-mode', 'closed', '--redis-timeout', '300ms']);
    const open = await startLimiter(['--redis', url, '--fail-mode', 'open', '--redis-timeout', '300ms']);
    const r = req([d('api_key', 'fail')]);
    expect((await closed.client.call(r)).overall_code).toBe('OK');
    // grpc.health.v1 Watch (what Envoy's and other gRPC clients' health watching use): pushed
    const watch = healthWatch(closed.grpc);
    expect(await watch.next(1)).toEqual(['SERVING']);
    await own.stop();
    expect((await closed.client.call(r)).overall_code).toBe('OVER_LIMIT');
    expect((await open.client.call(r)).overall_code).toBe('OK');
    expect(await rlsHealth(closed.grpc)).toBe('NOT_SERVING');
    expect(await rlsHealth(open.grpc)).toBe('SERVING');
    expect(await watch.next(1)).toEqual(['NOT_SERVING']);
    const readyz = await fetch(`${closed.admin}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toMatch(/redis unavailable \(failing closed\)/);
    expect(
      await metric(
        closed.admin,
        /^dds_ratelimit_rls_decisions_total\{domain="dds",descriptor="dds.api_key",outcome="unavailable"\} (\d+)/m,
      ),
    ).toBe(1);
    const back = await startRedis([], own.port);
    try {
      await waitForHttp(`${closed.admin}/readyz`, 200, 15_000);
      expect((await closed.client.call(r)).overall_code).toBe('OK');
      expect(await rlsHealth(closed.grpc)).toBe('SERVING');
      expect(await watch.next(1)).toEqual(['SERVING']);
    } finally {
      watch.close();
      await back.stop();
    }
  });

  it('a reload that changes a limit under load: every answer follows the limit it names, no call fails', async () => {
    const l = await startLimiter(
      ['--rls-algorithm', 'fixed-window'],
      CONFIG.replace('requests_per_unit: 7', 'requests_per_unit: 300'),
    );
    const background = rlsLoad(l.grpc, req([d('api_key', 'background')]), { n: 6000, c: 16, rps: 2000 });
    const ip = d('remote_address', '198.51.100.1');
    const limits: number[] = [];
    let admitted = 0;
    let expected = 0;
    for (let i = 1; i <= 1200; i++) {
      if (i === 200)
        writeFileSync(
          join(l.dir, 'config.yaml'),
          CONFIG.replace('requests_per_unit: 7', 'requests_per_unit: 900'),
        );
      const r = await l.client.call(req([ip]));
      const s = r.statuses[0]!;
      const limit = s.current_limit!.requests_per_unit;
      if (limits.at(-1) !== limit) limits.push(limit);
      // fixed window: the i-th hit of the window is admitted iff i <= the limit in force
      expect([i, s.code, s.limit_remaining]).toEqual([
        i,
        i <= limit ? 'OK' : 'OVER_LIMIT',
        Math.max(0, limit - i),
      ]);
      if (s.code === 'OK') admitted++;
      if (i <= limit) expected++;
    }
    expect(limits).toEqual([300, 900]);
    expect(admitted).toBe(expected);
    const load = await background;
    expect(load.errors).toBe(0);
    expect(load.ok).toBe(10);
    await l.proc.waitFor('RLS config reloaded');
  });

  it('a bad config: exit 2 naming the file and field at start; rejected on reload while the old one serves', async () => {
    const dir = tempDir('rls-bad');
    writeFileSync(
      join(dir, 'a.yaml'),
      'domain: x\ndescriptors:\n  - key: k\n    rate_limit: { unit: fortnight, requests_per_unit: 1 }\n',
    );
    const r = await run(process.execPath, [bin('rate-limiter'), '--rls-config', dir, '--admin', 'off']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${join(dir, 'a.yaml')}: descriptors.0.rate_limit.unit: invalid rate limit unit 'fortnight'`,
    );
    writeFileSync(join(dir, 'a.yaml'), 'domain: x\ndescriptors:\n  - key: k\n    rate_limt: {}\n');
    const u = await run(process.execPath, [bin('rate-limiter'), '--rls-config', dir, '--admin', 'off']);
    expect(u.stderr).toMatch(/descriptors\.0: Unrecognized key: "rate_limt"/);

    const l = await startLimiter([]);
    writeFileSync(
      join(l.dir, 'config.yaml'),
      'domain: dds\ndescriptors:\n  - key: api_key\n    rate_limit: { unit: day }\n',
    );
    await l.proc.waitFor(/requests_per_unit: required.*configuration rejected/);
    expect(await metric(l.admin, /^dds_config_reload_failures_total (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(brief(await l.client.call(req([d('api_key', 'still')])))).toEqual(['OK', ['OK', 9]]);
    // a second file in the directory with the same domain is refused too
    writeFileSync(join(l.dir, 'config.yaml'), CONFIG);
    writeFileSync(join(l.dir, 'z.yaml'), 'domain: dds\n');
    await l.proc.waitFor(/duplicate domain 'dds'.*configuration rejected/);
  });

  it('without --rls-config no gRPC module is loaded (memory)', async () => {
    const port = await freePort();
    const p = startComponent('rate-limiter', [
      '--rate',
      '10/s',
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      'off',
      '--log-level',
      'debug',
    ]);
    procs.push(p);
    await p.waitFor('started');
    const loaded = await run('bash', ['-c', `grep -c grpc-js /proc/${p.child.pid}/maps || true`]);
    expect(loaded.stdout.trim()).toBe('0');
  });
});

describe('identical decisions to envoyproxy/ratelimit (fixed window, same Redis, same config)', () => {
  it('answers every call of a mixed sequence exactly as the reference service does', async () => {
    const ref = await startEnvoyRatelimit(
      `127.0.0.1:${redis.port}`,
      { 'config.yaml': CONFIG },
      { CACHE_KEY_PREFIX: 'ref:' },
    );
    procs.push(ref.proc);
    const theirs = rlsClient(ref.grpc);
    clients.push(theirs);
    const ours = await startLimiter([
      '--redis',
      `redis://127.0.0.1:${redis.port}`,
      '--rls-redis-prefix',
      'ours:',
    ]);
    const calls: RlsRequestJson[] = [];
    const keys = ['x', 'y'];
    for (let i = 0; i < 14; i++) {
      const k = keys[i % 2]!;
      calls.push(req([d('api_key', k), d('api_key', k, 'path', '/upload')]));
      calls.push(req([d('remote_address', `192.0.2.${i % 3}`)], (i % 3) + 1));
      calls.push(req([{ ...d('remote_address', '192.0.2.0'), hits_addend: 0 }]));
      calls.push(req([d('header_match', 'shadow'), d('remote_address', '10.0.0.1')]));
      calls.push(req([d('tier', 'free'), d('tier', 'paid')]));
      calls.push(req([d('tier', 'free')]));
      calls.push(req([{ ...d('caller', 'c'), limit: { requests_per_unit: 3, unit: 'DAY' } }]));
      calls.push({ domain: 'unknown-domain', descriptors: [d('api_key', 'z')] });
    }
    const strip = (r: RlsResponseJson) => ({
      overall: r.overall_code,
      statuses: r.statuses.map((s) => ({
        code: s.code,
        limit: s.current_limit,
        remaining: s.limit_remaining,
      })),
    });
    let compared = 0;
    for (const c of calls) {
      const [a, b] = [await ours.client.call(c), await theirs.call(c)];
      expect(strip(a), JSON.stringify(c)).toEqual(strip(b));
      // the reset time is the same window end, read from two clocks: the same second or the next
      a.statuses.forEach((s, i) => {
        const other = b.statuses[i]!.duration_until_reset;
        if (s.duration_until_reset === null || other === null) expect(s.duration_until_reset).toBe(other);
        else
          expect(
            Math.abs(Number.parseFloat(s.duration_until_reset) - Number.parseFloat(other)),
          ).toBeLessThanOrEqual(1);
      });
      compared++;
    }
    expect(compared).toBe(calls.length);
    // both counted in the same Redis under their own prefix: the same counters
    const counters = async (prefix: string) =>
      (await run('redis-cli', ['-p', String(redis.port), '--scan', '--pattern', `${prefix}*`])).stdout
        .split('\n')
        .filter(Boolean).length;
    expect(await counters('ours:')).toBe(await counters('ref:'));
  });
});
