import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, freePorts, run, type Service, sleep, startRedis, tempDir } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

describe('replicated shards (the book’s replicated sharded cache; a twemproxy extension)', () => {
  const primaries: Service[] = [];
  const replicas: Service[] = [];
  let amb: Ambassador;
  let failover: number;
  let spread: number;
  const clients: Redis[] = [];
  const client = async (port: number) => {
    const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
    clients.push(c);
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) primaries.push(await startRedis());
    for (let i = 0; i < 2; i++)
      replicas.push(await startRedis(['--replicaof', '127.0.0.1', String(primaries[i]!.port)]));
    [failover, spread] = await freePorts(2);
    const pool = (port: number, read_preference: string) => ({
      listen: `127.0.0.1:${port}`,
      redis: true,
      read_preference,
      servers: primaries.map((p, i) => `127.0.0.1:${p.port}:1 s${i}`),
      replicas: { s0: [`127.0.0.1:${replicas[0]!.port}`], s1: [`127.0.0.1:${replicas[1]!.port}`] },
    });
    amb = await startAmbassador({ failover: pool(failover, 'primary'), spread: pool(spread, 'replica') });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await amb?.stop();
    await Promise.all([...primaries, ...replicas].map((s) => s.stop()));
  });

  it('reads go to replicas when asked to, and fail over to them when the primary dies', async () => {
    const w = await client(failover);
    const keys = Array.from({ length: 200 }, (_, i) => `rep:${i}`);
    for (const k of keys) await w.set(k, `v:${k}`);
    // wait for replication
    for (let i = 0; i < 100; i++) {
      const n = await Promise.all(replicas.map(async (r) => (await client(r.port)).dbsize()));
      if (n[0]! + n[1]! === keys.length) break;
      await sleep(100);
    }
    const spreadClient = await client(spread);
    expect(await spreadClient.mget(...keys)).toEqual(keys.map((k) => `v:${k}`));
    const metrics = await (await fetch(`${amb.admin}/metrics`)).text();
    expect(metrics).toMatch(/dds_shard_requests_total\{pool="spread",server="s0@127\.0\.0\.1:\d+"\} [1-9]/);
    expect(metrics).toMatch(/dds_shard_requests_total\{pool="spread",server="s1@127\.0\.0\.1:\d+"\} [1-9]/);

    // the ambassador sees its connections to the dead primary close (then reads go to the replica)
    const s0 = 'dds_shard_server_connections{pool="failover",server="s0"} '; // the primary (replicas: s0@HOST:PORT)
    const toS0 = async () => {
      const line = (await (await fetch(`${amb.admin}/metrics`)).text())
        .split('\n')
        .find((l) => l.startsWith(s0));
      return Number(line?.slice(s0.length));
    };
    expect(await toS0()).toBeGreaterThan(0);
    await primaries[0]!.stop();
    await vi.waitFor(async () => expect(await toS0()).toBe(0), { timeout: 5000, interval: 20 });
    const got = await Promise.all(keys.map((k) => w.get(k)));
    expect(got).toEqual(keys.map((k) => `v:${k}`));
    expect(await w.mget(...keys)).toEqual(keys.map((k) => `v:${k}`));
    // writes still go to the primaries: those for the dead one fail clearly
    const writes = await Promise.all(
      keys.map((k) =>
        w.set(k, 'new').then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      ),
    );
    expect(writes.filter((x) => x === 'ok').length).toBeGreaterThan(0);
    expect(writes.filter((x) => x !== 'ok')[0]).toMatch(/server s0 \(127\.0\.0\.1:\d+\) unavailable/);
  });

  it('replicas must name an existing server', async () => {
    const f = join(tempDir('rep'), 'n.yml');
    writeFileSync(
      f,
      'a:\n  listen: 127.0.0.1:1\n  redis: true\n  servers: ["127.0.0.1:2:1 one"]\n  replicas: { two: ["127.0.0.1:3"] }\n',
    );
    const r = await run(process.execPath, [bin('shard-ambassador'), '-t', '-c', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/pools\.a\.replicas\.two: no server named "two"/);
  });
});
