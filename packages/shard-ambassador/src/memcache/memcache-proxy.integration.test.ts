import { randomBytes } from 'node:crypto';
import { freePort, type Service, startMemcached } from '@dds/test-support';
import { type Ambassador, startAmbassador } from '@dds/test-support/shard-ambassador/ambassador';
import { RawClient } from '@dds/test-support/shard-ambassador/raw-client';
import Memcached from 'memcached';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolSchema } from '../config/pool-schema.js';
import { parseServer, type ServerSpec } from '../config/server-spec.js';
import { Placement } from '../pool/placement.js';

const call = <T>(fn: (cb: (err: unknown, v: T) => void) => void): Promise<T> =>
  new Promise((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));

describe('memcache pools through the ambassador (real memcached shards)', () => {
  const shards: Service[] = [];
  let amb: Ambassador;
  let port: number;
  let mc: Memcached;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) shards.push(await startMemcached());
    port = await freePort();
    amb = await startAmbassador(
      {
        cache: {
          listen: `127.0.0.1:${port}`,
          hash: 'md5',
          distribution: 'ketama',
          servers: shards.map((s) => `127.0.0.1:${s.port}:1`),
        },
      },
      ['--max-request-size', '65536', '--memcache-max-value', '65536'],
    );
    mc = new Memcached(`127.0.0.1:${port}`, { retries: 0, timeout: 2000 });
  });
  afterAll(async () => {
    mc?.end();
    await amb?.stop();
    await Promise.all(shards.map((s) => s.stop()));
  });

  it('the memcached npm client: set/get/getMulti (fan-out, merged), add, replace, append, prepend, incr/decr, del, touch, cas', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `mc:${i}`);
    for (const k of keys) await call<boolean>((cb) => mc.set(k, `v-${k}`, 60, cb));
    const multi = await call<Record<string, string>>((cb) => mc.getMulti([...keys, 'mc:missing'], cb));
    expect(Object.keys(multi).sort()).toEqual([...keys].sort());
    expect(multi['mc:7']).toBe('v-mc:7');
    // the keys are spread over all shards
    let shardsUsed = 0;
    for (const s of shards) {
      const c = await RawClient.open(s.port);
      const got = await c.exchange(`get ${keys.join(' ')}\r\n`, (b) => b.toString().endsWith('END\r\n'));
      if (got.toString().includes('VALUE')) shardsUsed++;
      c.close();
    }
    expect(shardsUsed).toBe(3);
    expect(await call<boolean>((cb) => mc.add('mc:0', 'x', 60, cb)).catch(() => false)).toBe(false);
    expect(await call<boolean>((cb) => mc.add('mc:new', 'x', 60, cb))).toBe(true);
    expect(await call<boolean>((cb) => mc.replace('mc:new', 'y', 60, cb))).toBe(true);
    expect(await call<boolean>((cb) => mc.append('mc:new', '-end', cb))).toBe(true);
    expect(await call<boolean>((cb) => mc.prepend('mc:new', 'start-', cb))).toBe(true);
    expect(await call<string>((cb) => mc.get('mc:new', cb))).toBe('start-y-end');
    await call((cb) => mc.set('mc:n', 10, 60, cb));
    expect(await call<number | boolean>((cb) => mc.incr('mc:n', 5, cb))).toBe(15);
    expect(await call<number | boolean>((cb) => mc.decr('mc:n', 3, cb))).toBe(12);
    // the memcached typings omit touch's result argument, which the client does pass
    expect(await call<boolean>((cb) => mc.touch('mc:n', 100, cb as (err: unknown) => void))).toBe(true);
    expect(await call<boolean>((cb) => mc.del('mc:n', cb))).toBe(true);
    expect(await call<unknown>((cb) => mc.get('mc:n', cb))).toBeUndefined();
    const g = await call<{ cas: string }>((cb) => mc.gets('mc:1', cb));
    expect(await call<boolean>((cb) => mc.cas('mc:1', 'cas-1', g.cas, 60, cb))).toBe(true);
    expect(await call<boolean>((cb) => mc.cas('mc:1', 'cas-2', g.cas, 60, cb))).toBe(false);
  });

  it('raw protocol: noreply, gets fan-out, meta commands, version', async () => {
    const c = await RawClient.open(port);
    const r = await c.lines(
      'set nr 0 0 2 noreply\r\nhi\r\nget nr\r\nversion\r\nms meta 3\r\nabc\r\nmg meta v\r\nmd meta\r\nmg meta v\r\nmn\r\n',
      10,
    );
    expect(r).toEqual([
      'VALUE nr 0 2',
      'hi',
      'END',
      'VERSION 1.6.0 dds-shard-ambassador',
      'HD',
      'VA 3',
      'abc',
      'HD',
      'EN',
      'MN',
    ]);
    const keys = Array.from({ length: 30 }, (_, i) => `g${i}`);
    await c.lines(keys.map((k) => `set ${k} 1 0 1\r\nx\r\n`).join(''), 30);
    const got = await c.exchange(`gets ${keys.join(' ')}\r\n`, (b) => b.toString().endsWith('END\r\n'));
    expect(got.toString().match(/^VALUE g\d+ 1 1 \d+$/gm)).toHaveLength(30);
    c.close();
  });

  it('binary values of up to 60 KB, pipelined, then fetched by one multi-key get split over the shards: every byte back', async () => {
    const c = await RawClient.open(port);
    const values = Array.from({ length: 24 }, (_, i) =>
      randomBytes([0, 1, 63, 64, 65, 4096, 40_000, 60_000][i % 8]!),
    );
    const keys = values.map((_, i) => `bin${i}`);
    const sets = Buffer.concat(
      values.flatMap((v, i) => [Buffer.from(`set ${keys[i]} 7 0 ${v.length}\r\n`), v, Buffer.from('\r\n')]),
    );
    expect(await c.lines(sets, keys.length)).toEqual(keys.map(() => 'STORED'));
    const got = await c.exchange(`get ${keys.join(' ')}\r\n`, (b) => b.subarray(-5).toString() === 'END\r\n');
    // VALUE blocks of every shard, then one END: parse them back by their lengths
    const found = new Map<string, Buffer>();
    let p = 0;
    while (got.subarray(p, p + 6).toString() === 'VALUE ') {
      const eol = got.indexOf('\r\n', p);
      const [, key, flags, len] = got.subarray(p, eol).toString().split(' ');
      expect(flags).toBe('7');
      found.set(key!, got.subarray(eol + 2, eol + 2 + Number(len)));
      p = eol + 2 + Number(len) + 2;
    }
    expect(got.subarray(p).toString()).toBe('END\r\n');
    expect(keys.map((k, i) => found.get(k)?.equals(values[i]!))).toEqual(keys.map(() => true));
    c.close();
  });

  it('bad input: unknown command gets an error and the connection stays; a bad data block closes it; others unaffected', async () => {
    const c = await RawClient.open(port);
    expect(await c.lines('stats\r\n', 1)).toEqual([
      "CLIENT_ERROR command 'stats' is not supported through dds-shard-ambassador",
    ]);
    const bad = await c.exchange('set k 0 0 2\r\nabcdef\r\n', () => false, 2000);
    expect(bad.toString()).toBe('CLIENT_ERROR bad data chunk\r\n');
    expect(c.closed).toBe(true);
    const big = await RawClient.open(port);
    const r = await big.exchange(`set big 0 0 100000\r\n${'x'.repeat(100000)}\r\n`, () => false, 2000);
    expect(r.toString()).toBe('CLIENT_ERROR value larger than 65536 bytes\r\n');
    expect(await call<string>((cb) => mc.get('mc:new', cb))).toBe('start-y-end');
  });

  it('a dead shard: errors for exactly the keys the placement puts on it, naming it', async () => {
    const servers = shards.map((s) => `127.0.0.1:${s.port}:1`);
    const specs = servers.map((s) => parseServer(s) as ServerSpec);
    const placement = new Placement(
      poolSchema.parse({ listen: '127.0.0.1:1', hash: 'md5', distribution: 'ketama', servers }),
      specs,
    );
    const dead = shards[2]!;
    await dead.stop();
    const keys = Array.from({ length: 60 }, (_, i) => `dead:${i}`);
    const onDead = keys.map((k) => placement.index(Buffer.from(k), 0, k.length) === 2);
    expect(onDead.filter(Boolean).length).toBeGreaterThan(0);
    expect(onDead.filter((x) => !x).length).toBeGreaterThan(0);
    const c = await RawClient.open(port);
    const replies = await c.lines(keys.map((k) => `set ${k} 0 0 1\r\nx\r\n`).join(''), keys.length);
    const name = `127\\.0\\.0\\.1:${dead.port}`;
    replies.forEach((line, i) => {
      if (onDead[i])
        expect(line, keys[i]).toMatch(new RegExp(`^SERVER_ERROR server ${name} \\(${name}\\) unavailable`));
      else expect(line, keys[i]).toBe('STORED');
    });
    c.close();
  });
});
