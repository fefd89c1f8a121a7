import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  type Proc,
  type RedisCluster,
  rlsLoad,
  type SentinelSet,
  selfSignedCert,
  sleep,
  startComponent,
  startRedisCluster,
  startSentinels,
  startTlsAclRedis,
  type TlsAclRedis,
  tempDir,
  tlsAclArgs,
  waitForHttp,
} from '@dds/test-support';
import { type RecordingUpstream, startUpstream } from '@dds/test-support/recording-upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let upstream: RecordingUpstream;
const procs: Proc[] = [];

beforeAll(async () => {
  upstream = await startUpstream();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await upstream?.close();
});

interface Replica {
  p: Proc;
  base: string;
  admin: string;
}

/** A limiter replica: 50 per day per x-client (a bucket of 50 that refills over a day: exact counts). */
async function replica(redisArgs: string[], extra: string[] = []): Promise<Replica> {
  const [port, admin] = [await freePort(), await freePort()];
  const p = startComponent('rate-limiter', [
    '--listen',
    `127.0.0.1:${port}`,
    '--upstream',
    upstream.url,
    '--admin',
    `127.0.0.1:${admin}`,
    '--rate',
    '50/d',
    '--burst',
    '49',
    '--key',
    'header:x-client',
    '--redis-timeout',
    '500ms',
    '--deny-cache',
    '0',
    ...redisArgs,
    ...extra,
  ]);
  procs.push(p);
  await p.waitFor('started', 20_000);
  return { p, base: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${admin}` };
}

async function hit(r: Replica, client: string): Promise<number> {
  const res = await fetch(`${r.base}/`, { headers: { 'x-client': client } });
  await res.arrayBuffer();
  return res.status;
}

/** n requests for one client, spread over the replicas, 8 in flight: statuses. */
async function offer(replicas: Replica[], client: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 8) {
    const batch = Array.from({ length: Math.min(8, n - i) }, (_, j) =>
      hit(replicas[(i + j) % replicas.length]!, client),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

const count = (s: number[], code: number) => s.filter((x) => x === code).length;
const metric = async (admin: string, name: string) =>
  Number(
    new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${admin}/metrics`)).text())?.[1] ??
      Number.NaN,
  ); // NaN when absent: a missing series never reads as 0

/**
 * Kills a primary under load and measures, per replica, how long decisions failed (fail open:
 * admitted unchecked; fail closed: 503), until the limit is enforced from Redis again.
 */
async function failover(
  open: Replica,
  closed: Replica,
  client: string,
  kill: () => Promise<void>,
): Promise<{ openMs: number; closedMs: number; during: { open: number[]; closed: number[] } }> {
  const during = { open: [] as number[], closed: [] as number[] };
  const t0 = performance.now();
  await kill();
  let openMs = -1;
  let closedMs = -1;
  while ((openMs < 0 || closedMs < 0) && performance.now() - t0 < 30_000) {
    const [a, b] = await Promise.all([hit(open, client), hit(closed, client)]);
    during.open.push(a);
    during.closed.push(b);
    if (closedMs < 0 && b !== 503) closedMs = performance.now() - t0;
    if (openMs < 0 && (await metric(open.admin, 'dds_ratelimit_redis_up')) === 1 && a !== 503)
      openMs = performance.now() - t0;
    await sleep(50);
  }
  return { openMs, closedMs, during };
}

describe('Redis Cluster (3 primaries, 3 replicas, redis-cli --cluster create)', () => {
  let cluster: RedisCluster;
  let open: Replica;
  let closed: Replica;
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 2000 });
    const args = ['--redis-cluster', cluster.seeds.join(',')];
    [open, closed] = await Promise.all([
      replica(args, ['--fail-mode', 'open']),
      replica(args, ['--fail-mode', 'closed']),
    ]);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('two replicas share each limit exactly, whichever primary holds the key', async () => {
    const clients = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    const owners = new Set(
      await Promise.all(clients.map((c) => cluster.primaryOf(`dds:rl:{per-header-x-client:${c}}/0`))),
    );
    expect(owners.size).toBeGreaterThan(1); // the keys are spread over several primaries
    for (const c of clients) {
      const s = await offer([open, closed], c, 80);
      expect([c, count(s, 200), count(s, 429)]).toEqual([c, 50, 30]);
    }
  });

  it('RLS (fixed window and GCRA): two replicas answer Envoy with one shared count', async () => {
    const dir = tempDir('rls-cluster');
    writeFileSync(
      join(dir, 'config.yaml'),
      'domain: d\ndescriptors:\n  - key: user\n    rate_limit: { unit: day, requests_per_unit: 30 }\n',
    );
    for (const algorithm of ['fixed-window', 'gcra']) {
      const grpc: string[] = [];
      for (let i = 0; i < 2; i++) {
        const [port, admin] = [await freePort(), await freePort()];
        const p = startComponent('rate-limiter', [
          '--rls-config',
          dir,
          '--rls-listen',
          `127.0.0.1:${port}`,
          '--rls-algorithm',
          algorithm,
          '--admin',
          `127.0.0.1:${admin}`,
          '--redis-cluster',
          cluster.seeds.join(','),
        ]);
        procs.push(p);
        await p.waitFor('started', 20_000);
        grpc.push(`127.0.0.1:${port}`);
      }
      const request = { domain: 'd', descriptors: [{ entries: [{ key: 'user', value: algorithm }] }] };
      const [a, b] = await Promise.all(grpc.map((g) => rlsLoad(g, request, { n: 40, c: 4 })));
      expect([algorithm, a!.errors + b!.errors, a!.ok + b!.ok, a!.over_limit + b!.over_limit]).toEqual([
        algorithm,
        0,
        30,
        50,
      ]);
    }
  });

  it('a primary killed under load: fail open admits, fail closed answers 503, then the limit is shared again', async () => {
    const client = 'failover';
    const key = `dds:rl:{per-header-x-client:${client}}/0`;
    const owner = await cluster.primaryOf(key);
    const before = await offer([open, closed], client, 20);
    expect(count(before, 200)).toBe(20);
    const victim = cluster.nodes.find((n) => n.port === owner)!;
    const r = await failover(open, closed, client, async () => {
      await victim.proc.kill('SIGKILL');
    });
    console.log(
      `cluster failover: fail-open replica enforcing again after ${r.openMs.toFixed(0)} ms, fail-closed after ${r.closedMs.toFixed(0)} ms`,
    );
    expect(r.during.closed).toContain(503);
    expect(r.during.open).not.toContain(503);
    expect(await metric(closed.admin, 'dds_ratelimit_fail_closed_total')).toBeGreaterThan(0);
    expect(await metric(open.admin, 'dds_ratelimit_fail_open_total')).toBeGreaterThan(0);
    // the bound in the README: cluster-node-timeout (2 s here) + 5 s
    expect(Math.max(r.openMs, r.closedMs)).toBeLessThan(7000);
    await cluster.waitFailover(owner);
    // shared and exact again: a new client on the promoted replica's slots
    const newOwner = await cluster.primaryOf(key);
    expect(newOwner).not.toBe(owner);
    const s = await offer([open, closed], 'after-failover', 80);
    expect([count(s, 200), count(s, 429)]).toEqual([50, 30]);
  }, 60_000);
});

describe('Redis Sentinel (primary, replica, three redis-sentinel)', () => {
  let set: SentinelSet;
  let open: Replica;
  let closed: Replica;
  beforeAll(async () => {
    set = await startSentinels();
    const args = ['--redis-sentinel', set.addresses.join(','), '--redis-sentinel-master', set.master];
    [open, closed] = await Promise.all([
      replica(args, ['--fail-mode', 'open']),
      replica(args, ['--fail-mode', 'closed']),
    ]);
  }, 60_000);
  afterAll(async () => {
    await set?.stop();
  });

  it('shares a limit exactly through the primary the sentinels name, and again after a failover', async () => {
    const s = await offer([open, closed], 'sentinel', 80);
    expect([count(s, 200), count(s, 429)]).toEqual([50, 30]);
    const old = await set.currentPrimary();
    const r = await failover(open, closed, 'sentinel-load', async () => {
      await set.primary.proc.kill('SIGKILL');
    });
    console.log(
      `sentinel failover: fail-open replica enforcing again after ${r.openMs.toFixed(0)} ms, fail-closed after ${r.closedMs.toFixed(0)} ms`,
    );
    expect(r.during.closed).toContain(503);
    expect(r.during.open).not.toContain(503);
    // the bound in the README: down-after-milliseconds (1 s here) + 5 s
    expect(Math.max(r.openMs, r.closedMs)).toBeLessThan(6000);
    expect(await set.waitFailover(old)).toBe(set.replica.port);
    // the state replicated before the failover is still there: 'sentinel' stays exhausted
    expect(await hit(open, 'sentinel')).toBe(429);
    const after = await offer([open, closed], 'after-sentinel-failover', 80);
    expect([count(after, 200), count(after, 429)]).toEqual([50, 30]);
  }, 60_000);
});

describe('TLS and an ACL user (redis-server --tls-port, --user)', () => {
  let redis: TlsAclRedis;
  beforeAll(async () => {
    redis = await startTlsAclRedis(selfSignedCert());
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('decides through rediss:// with the CA and the ACL user', async () => {
    const args = tlsAclArgs(redis, selfSignedCert().cert);
    const [a, b] = await Promise.all([replica(args.good), replica(args.good)]);
    await waitForHttp(`${a.admin}/readyz`);
    const s = await offer([a, b], 'tls', 70);
    expect([count(s, 200), count(s, 429)]).toEqual([50, 20]);
  });

  it('a wrong password or CA: /readyz 503 with the reason, the process keeps running', async () => {
    const args = tlsAclArgs(redis, selfSignedCert().cert);
    const wrongPassword = await replica(args.wrongPassword);
    const wrongCa = await replica(args.wrongCa);
    for (const [r, reason] of [
      [wrongPassword, /redis: authentication failed: WRONGPASS/],
      [wrongCa, /redis: TLS: .*(self-signed|signature|verify)/i],
    ] as const) {
      let body = '';
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${r.admin}/readyz`);
        body = await res.text();
        if (res.status === 503 && reason.test(body)) break;
        await hit(r, 'x');
        await sleep(100);
      }
      expect(body).toMatch(reason);
      expect(r.p.child.exitCode).toBeNull();
    }
    // fail open (the default): the pod still serves while it cannot reach its limits
    expect(await hit(wrongPassword, 'x')).toBe(200);
  });
});
