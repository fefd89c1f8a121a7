import { freePort, type Service, startRedis } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('hot reload of the server list under live clients', () => {
  const shards: Service[] = [];
  let amb: Ambassador;
  let port: number;
  const clients: Redis[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) shards.push(await startRedis());
    port = await freePort();
    amb = await startAmbassador({ live: pool(2) });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await amb?.stop();
    await Promise.all(shards.map((s) => s.stop()));
  });
  const pool = (n: number) => ({
    listen: `127.0.0.1:${port}`,
    redis: true,
    servers: shards.slice(0, n).map((s, i) => `127.0.0.1:${s.port}:1 s${i}`),
  });

  it('adds a shard: new placement applies, no client connection drops, no request fails', async () => {
    let closes = 0;
    for (let i = 0; i < 10; i++) {
      const c = new Redis({
        port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
      });
      c.on('close', () => closes++);
      await c.connect();
      clients.push(c);
    }
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = clients.map(async (c, ci) => {
      for (let i = 0; !stop && i < 100_000; i++) {
        try {
          await c.set(`reload:${ci}:${i % 500}`, String(i));
          ok++;
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    });
    while (ok < 2000) await new Promise((r) => setTimeout(r, 20));
    await amb.rewrite({ live: pool(3) });
    const after = ok;
    while (ok < after + 2000) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(load);
    expect(failures).toEqual([]);
    expect(closes).toBe(0);
    // the third shard now receives keys
    const third = new Redis({ port: shards[2]!.port, lazyConnect: true });
    await third.connect();
    expect(await third.dbsize()).toBeGreaterThan(0);
    third.disconnect();
    const pools = (await (await fetch(`${amb.admin}/pools`)).json()) as Record<
      string,
      { servers: unknown[] }
    >;
    expect(pools.live!.servers).toHaveLength(3);
  });

  it('an invalid edit is rejected and logged; the old config keeps serving', async () => {
    await amb.rewrite({ live: { ...pool(3), hash: 'nope' } }, 'configuration rejected');
    expect(amb.proc.stdout()).toMatch(/pools\.live\.hash/);
    const c = clients[0]!;
    expect(await c.set('still', 'here')).toBe('OK');
    const pools = (await (await fetch(`${amb.admin}/pools`)).json()) as Record<
      string,
      { servers: unknown[] }
    >;
    expect(pools.live!.servers).toHaveLength(3);
  });
});
