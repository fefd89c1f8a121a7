import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type Service, sleep, startRedis, tempDir } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Waits until a unix socket file exists (redis-server creates it after it started). */
async function socketFile(path: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (statSync(path).isSocket()) return;
    } catch {
      // not there yet
    }
    await sleep(50);
  }
  throw new Error(`${path} did not appear`);
}

describe('unix sockets: a pool listening on a socket path, shards reached by socket path', () => {
  const dir = tempDir('shard-unix');
  const shards: Service[] = [];
  const paths = [0, 1, 2].map((i) => join(dir, `redis${i}.sock`));
  const listen = join(dir, 'ambassador.sock');
  let amb: Ambassador;
  let client: Redis;

  beforeAll(async () => {
    for (const p of paths) {
      shards.push(await startRedis(['--unixsocket', p, '--unixsocketperm', '700']));
      await socketFile(p);
    }
    amb = await startAmbassador({
      local: {
        listen: `${listen} 0600`,
        redis: true,
        hash: 'md5',
        servers: paths.map((p, i) => `${p}:1 s${i}`),
      },
    });
    client = new Redis({ path: listen, lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
  });
  afterAll(async () => {
    client?.disconnect();
    await amb?.stop();
    await Promise.all(shards.map((s) => s.stop()));
  });

  it('serves single and multi-key commands over the sockets, keys spread over every shard', async () => {
    expect(statSync(listen).mode & 0o777).toBe(0o600);
    const keys = Array.from({ length: 200 }, (_, i) => `unix:${i}`);
    expect(await client.mset(...keys.flatMap((k) => [k, `v${k}`]))).toBe('OK');
    expect(await client.get('unix:7')).toBe('vunix:7');
    expect(await client.mget(...keys)).toEqual(keys.map((k) => `v${k}`));
    const perShard = await Promise.all(
      paths.map(async (path) => {
        const d = new Redis({ path, lazyConnect: true });
        await d.connect();
        const n = await d.dbsize();
        d.disconnect();
        return n;
      }),
    );
    expect(
      perShard.every((n) => n > 0),
      `keys per shard ${perShard}`,
    ).toBe(true);
    expect(perShard.reduce((a, b) => a + b, 0)).toBe(keys.length);
  });
});
