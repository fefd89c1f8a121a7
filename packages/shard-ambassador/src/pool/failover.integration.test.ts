import { freePorts, type Service, startRedis } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { poolSchema } from '../config/pool-schema.js';
import { parseServer, type ServerSpec } from '../config/server-spec.js';
import { Placement } from './placement.js';

describe('a shard dies and comes back', () => {
  const shards: Service[] = [];
  let amb: Ambassador;
  let stayPort: number;
  let ejectPort: number;
  const clients: Redis[] = [];
  const keys = Array.from({ length: 300 }, (_, i) => `fail:${i}`);
  const client = async (port: number) => {
    const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
    clients.push(c);
    await c.connect();
    return c;
  };

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) shards.push(await startRedis());
    [stayPort, ejectPort] = await freePorts(2);
    // Named servers: ketama places keys by name, so the split does not depend on the random ports.
    const servers = shards.map((s, i) => `127.0.0.1:${s.port}:1 shard-${i}`);
    amb = await startAmbassador({
      stay: { listen: `127.0.0.1:${stayPort}`, redis: true, timeout: 500, servers },
      eject: {
        listen: `127.0.0.1:${ejectPort}`,
        redis: true,
        redis_db: 1,
        timeout: 500,
        auto_eject_hosts: true,
        server_failure_limit: 1,
        server_retry_timeout: 1500,
        servers,
      },
    });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await amb?.stop();
    await Promise.all(shards.map((s) => s.stop()));
  });

  it('only the dead shard’s keys fail, with a clear error; after a restart traffic returns', async () => {
    const r = await client(stayPort);
    for (const k of keys) await r.set(k, `v:${k}`);
    const specs = shards.map((s, i) => parseServer(`127.0.0.1:${s.port}:1 shard-${i}`) as ServerSpec);
    const placement = new Placement(
      poolSchema.parse({ listen: '127.0.0.1:1', servers: specs.map((s) => s.pname) }),
      specs,
    );
    const onDead = new Set(keys.filter((k) => placement.index(Buffer.from(k), 0, k.length) === 1));
    expect(onDead.size).toBeGreaterThan(10);
    const deadPort = shards[1]!.port;
    await shards[1]!.stop();

    const results = await Promise.all(
      keys.map((k) =>
        r.get(k).then(
          (v) => ({ k, v, e: '' }),
          (e: Error) => ({ k, v: null, e: e.message }),
        ),
      ),
    );
    for (const x of results) {
      if (onDead.has(x.k))
        expect(x.e, x.k).toMatch(
          /server shard-1 \(127\.0\.0\.1:\d+\) unavailable: (ECONNREFUSED|ECONNRESET|EPIPE|connection closed)/,
        );
      else expect(x.v, x.k).toBe(`v:${x.k}`);
    }
    // a multi-key command touching the dead shard reports it; one avoiding it works
    const live = keys.filter((k) => !onDead.has(k)).slice(0, 5);
    expect(await r.mget(...live)).toEqual(live.map((k) => `v:${k}`));
    await expect(r.mget(live[0]!, [...onDead][0]!)).rejects.toThrow(/unavailable/);

    // the eject pool: one failure ejects the shard, its keys move to the live shards
    const e = await client(ejectPort);
    const deadKey = [...onDead][0]!;
    await expect(e.set(deadKey, 'x')).rejects.toThrow(/unavailable/);
    expect(await e.set(deadKey, 'moved')).toBe('OK');
    expect(await e.get(deadKey)).toBe('moved');
    const metrics = await (await fetch(`${amb.admin}/metrics`)).text();
    expect(metrics).toMatch(/dds_shard_ejections_total\{pool="eject",server="shard-1"\} 1/);

    shards[1] = await startRedis([], deadPort);
    // no ejection in the stay pool: the next request reconnects
    expect(await r.set(deadKey, 'back')).toBe('OK');
    expect(await r.get(deadKey)).toBe('back');
    // the eject pool takes the server back after server_retry_timeout: the key's writes land
    // on shard-1 again (until then they go to a live shard)
    const direct = new Redis({ port: deadPort, db: 1, lazyConnect: true });
    await direct.connect();
    try {
      await vi.waitFor(
        async () => {
          expect(await e.set(deadKey, 'home')).toBe('OK');
          expect(await direct.get(deadKey)).toBe('home');
        },
        { timeout: 10_000, interval: 100 },
      );
    } finally {
      direct.disconnect();
    }
  });

  it('a server that does not answer in time: timeout error, not a hang', async () => {
    const r = await client(stayPort);
    const k = keys.find((x) => x !== '') as string;
    // DEBUG SLEEP would be refused by the proxy; pause the shard instead
    const specs = shards.map((s, i) => `127.0.0.1:${s.port}:1 shard-${i}`);
    const parsed = specs.map((s) => parseServer(s) as ServerSpec);
    const placement = new Placement(
      poolSchema.parse({ listen: '127.0.0.1:1', servers: parsed.map((p) => p.pname) }),
      parsed,
    );
    const idx = placement.index(Buffer.from(k), 0, k.length);
    shards[idx]!.proc.child.kill('SIGSTOP');
    try {
      const t0 = Date.now();
      await expect(r.get(k)).rejects.toThrow(/timeout: no reply from server .* within 500ms/);
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      shards[idx]!.proc.child.kill('SIGCONT');
    }
    expect(await r.set(k, 'after')).toBe('OK');
  });
});
