import { freePort, type Service, sleep, startRedis } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { startDnsServer, type Zone } from '@dds/test-support/shard-ambassador/dns-server';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

describe('DNS discovery of shards (headless Service SRV records)', () => {
  const shards: Service[] = [];
  let dns: { port: number; close(): void };
  let amb: Ambassador;
  let port: number;
  let replicasUp = 2;
  let flip = false;
  /** SRV questions the DNS server answered (each flips the order of the next answer) */
  let srvAnswers = 0;
  const NAME = '_redis._tcp.redis.shards.test';
  const zone = (_name: string, type: number): Zone => {
    // SRV answers come in a different order every time, like a real DNS server's
    if (type === 33) {
      flip = !flip;
      srvAnswers++;
    }
    const srv = shards
      .slice(0, replicasUp)
      .map((s, i) => ({ target: `redis-${i}.redis.shards.test`, port: s.port }));
    return {
      srv: { [NAME]: flip ? srv : [...srv].reverse() },
      a: Object.fromEntries(shards.map((_, i) => [`redis-${i}.redis.shards.test`, '127.0.0.1'])),
    };
  };

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) shards.push(await startRedis());
    dns = await startDnsServer(zone);
    port = await freePort();
    amb = await startAmbassador({
      redis: {
        listen: `127.0.0.1:${port}`,
        redis: true,
        dns_discovery: { name: NAME, interval: 200, server: `127.0.0.1:${dns.port}` },
      },
    });
  });
  afterAll(async () => {
    await amb?.stop();
    dns?.close();
    await Promise.all(shards.map((s) => s.stop()));
  });

  const poolServers = async () =>
    (
      (await (await fetch(`${amb.admin}/pools`)).json()) as Record<string, { servers: { name: string }[] }>
    ).redis!.servers.map((s) => s.name);

  it('starts with the servers DNS gives, named after the pods; reordered answers change nothing; a new pod joins', async () => {
    expect(await poolServers()).toEqual(['redis-0', 'redis-1']);
    const c = new Redis({ port, lazyConnect: true });
    await c.connect();
    const keys = Array.from({ length: 100 }, (_, i) => `dns:${i}`);
    for (const k of keys) await c.set(k, k);
    const where = async () =>
      Promise.all(
        keys.map(
          async (k) =>
            (await (await fetch(`${amb.admin}/locate?pool=redis&key=${k}`)).json()) as { server: string },
        ),
      );
    const before = (await where()).map((x) => x.server);
    // several lookups, with answers in both orders
    const asked = srvAnswers;
    await vi.waitFor(() => expect(srvAnswers).toBeGreaterThanOrEqual(asked + 4), {
      timeout: 10_000,
      interval: 20,
    });
    expect((await where()).map((x) => x.server)).toEqual(before);
    expect(amb.proc.stdout()).not.toMatch(/DNS discovery: servers changed/);
    replicasUp = 3;
    const until = Date.now() + 5000;
    while ((await poolServers()).length < 3 && Date.now() < until) await sleep(100);
    expect(await poolServers()).toEqual(['redis-0', 'redis-1', 'redis-2']);
    expect(await c.set('after-scale', '1')).toBe('OK');
    c.disconnect();
  });
});
